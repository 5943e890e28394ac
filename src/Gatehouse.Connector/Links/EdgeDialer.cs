using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Connector.Config;
using Gatehouse.Tunnel;
using Gatehouse.Wire.Tunnel;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Connector.Links;

/// <summary>The edge at the other end of a link, a feature of the link's connection (and so of its requests): relayed flows dial it.</summary>
/// <param name="Host">Its tunnel host.</param>
/// <param name="Port">Its tunnel port.</param>
internal sealed record LinkedEdge(string Host, int Port);

/// <summary>
/// Keeps one link to every edge of the tenant. Kestrel asks it for the next connection as it would ask a
/// listening socket; it answers with a freshly dialled, authenticated TLS connection to an edge that has no
/// link, waiting while every edge has one (or is backing off after a failed dial: 0.5 s, doubling to 10 s).
/// </summary>
internal sealed class EdgeDialer : IAsyncDisposable
{
    public static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(500);

    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan DialTimeout = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private readonly Func<X509Certificate2> _certificate;
    private readonly X509Certificate2 _tenantCa;
    private readonly string _tenantId;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dictionary<string, EdgeState> _edges = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource _changed = NewSignal();

    public EdgeDialer(Func<X509Certificate2> certificate, X509Certificate2 tenantCa, string tenantId, TimeProvider time, ILogger logger)
    {
        _certificate = certificate;
        _tenantCa = tenantCa;
        _tenantId = tenantId;
        _time = time;
        _logger = logger;
    }

    private long _rounds;

    /// <summary>How many times <see cref="NextAsync"/> looked for an edge to dial: it must not spin while every edge is linked.</summary>
    public long Rounds => Interlocked.Read(ref _rounds);

    /// <summary>The edges (by address) with a live link now.</summary>
    public IReadOnlyList<string> Linked
    {
        get
        {
            lock (_gate)
            {
                return [.. _edges.Where(e => e.Value.Link is not null).Select(e => e.Key).Order(StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Links to these edges from now on; links to edges no longer listed are closed.</summary>
    public void UseEdges(IReadOnlyList<EdgeTarget> edges)
    {
        var dropped = new List<DialedConnection>();
        lock (_gate)
        {
            var wanted = edges.Select(e => e.Address).ToHashSet(StringComparer.Ordinal);
            foreach (var (address, state) in _edges.ToList())
            {
                if (!wanted.Contains(address))
                {
                    _edges.Remove(address);
                    if (state.Link is { } link)
                    {
                        dropped.Add(link);
                    }
                }
            }

            foreach (var edge in edges)
            {
                _edges.TryAdd(edge.Address, new EdgeState(edge));
            }

            Signal();
        }

        foreach (var link in dropped)
        {
            link.Abort(new ConnectionAbortedException("the edge is no longer in the bundle"));
        }
    }

    /// <summary>The next link, once an edge needs one; null when the connector stops.</summary>
    public async ValueTask<ConnectionContext?> NextAsync(CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, _stopping.Token);
        while (!stop.IsCancellationRequested)
        {
            Interlocked.Increment(ref _rounds);
            EdgeState? due;
            TimeSpan wait;
            Task changed;
            lock (_gate)
            {
                var now = _time.GetUtcNow();
                var idle = _edges.Values.Where(e => e.Link is null && !e.Dialing).ToList();
                due = idle.Where(e => e.RetryAt <= now).OrderBy(e => e.RetryAt).FirstOrDefault();
                wait = idle.Count == 0 ? Timeout.InfiniteTimeSpan : idle.Min(e => e.RetryAt) - now;
                changed = _changed.Task;
                if (due is not null)
                {
                    due.Dialing = true;
                }
            }

            if (due is null)
            {
                try
                {
                    // Every edge linked (wait is infinite): only a change wakes this up; else the earliest retry does.
                    var retry = wait == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
                    await Task.WhenAny(changed, Task.Delay(retry, _time, stop.Token));
                    stop.Token.ThrowIfCancellationRequested();
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                continue;
            }

            var connection = await DialAsync(due, stop.Token);
            if (connection is not null)
            {
                return connection;
            }
        }

        return null;
    }

    private async Task<DialedConnection?> DialAsync(EdgeState edge, CancellationToken ct)
    {
        Socket? socket = null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(DialTimeout);
            var (host, port) = SplitAddress(edge.Target.Address);
            socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(host, port, timeout.Token);
            var sends = new RecordBatchingStream(new NetworkStream(socket, ownsSocket: true));
            var tls = new SslStream(sends, leaveInnerStreamOpen: false);
            socket = null;
            try
            {
                await tls.AuthenticateAsClientAsync(Options(host), timeout.Token);
                if (tls.NegotiatedApplicationProtocol.ToString() != ConnectorProtocol.ApplicationProtocol)
                {
                    throw new AuthenticationException($"the edge did not agree to {ConnectorProtocol.ApplicationProtocol}");
                }

                // From here on, the records of one flush of the link's HTTP/2 output go out in one send.
                sends.BatchWrites = true;
            }
            catch
            {
                await tls.DisposeAsync();
                throw;
            }

            DialedConnection? link = null;
            link = new DialedConnection(tls, null, new DnsEndPoint(host, port), () => Ended(edge, link!));
            link.Features.Set(new LinkedEdge(host, port));
            lock (_gate)
            {
                edge.Dialing = false;
                edge.Failures = 0;
                edge.Link = link;
            }

            LinkLog.Linked(_logger, edge.Target.Name, edge.Target.Address);
            return link;
        }
        catch (Exception e) when (e is SocketException or IOException or AuthenticationException or OperationCanceledException or FormatException)
        {
            socket?.Dispose();
            lock (_gate)
            {
                edge.Dialing = false;
                edge.Failures++;
                var backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, MinBackoff.Ticks << Math.Min(edge.Failures - 1, 10)));
                edge.RetryAt = _time.GetUtcNow() + backoff;
                Signal();
            }

            if (!ct.IsCancellationRequested)
            {
                LinkLog.DialFailed(_logger, edge.Target.Name, edge.Target.Address, e.Message);
            }

            return null;
        }
    }

    private void Ended(EdgeState edge, DialedConnection link)
    {
        lock (_gate)
        {
            if (edge.Link == link)
            {
                edge.Link = null;
                edge.RetryAt = _time.GetUtcNow() + MinBackoff;
            }

            Signal();
        }

        LinkLog.Unlinked(_logger, edge.Target.Name, edge.Target.Address);
    }

    private SslClientAuthenticationOptions Options(string host) => new()
    {
        TargetHost = host,
        EnabledSslProtocols = SslProtocols.Tls13,
        ApplicationProtocols = [new SslApplicationProtocol(ConnectorProtocol.ApplicationProtocol)],
        ClientCertificates = [_certificate()],
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = (_, certificate, _, _) => TunnelClient.IsTenantEdge(certificate as X509Certificate2, _tenantCa, _tenantId),
    };

    private static (string Host, int Port) SplitAddress(string address)
    {
        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new FormatException($"an edge address is HOST:PORT, not \"{address}\"");
        }

        return (address[..colon].Trim('[', ']'), port);
    }

    private void Signal()
    {
        _changed.TrySetResult();
        _changed = NewSignal();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        List<DialedConnection> links;
        lock (_gate)
        {
            links = [.. _edges.Values.Select(e => e.Link).OfType<DialedConnection>()];
        }

        foreach (var link in links)
        {
            link.Abort(new ConnectionAbortedException("the connector is stopping"));
        }

        _stopping.Dispose();
    }

    private sealed class EdgeState(EdgeTarget target)
    {
        public EdgeTarget Target { get; } = target;

        public DialedConnection? Link { get; set; }

        public bool Dialing { get; set; }

        public int Failures { get; set; }

        public DateTimeOffset RetryAt { get; set; } = DateTimeOffset.MinValue;
    }
}
