using System.Diagnostics;
using System.Net;
using Gatehouse.Tunnel;
using Gatehouse.Wire.Tunnel;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Edge.Private;

/// <summary>
/// One connection a connector dialled in, after TLS: the edge speaks HTTP/2 on it as the client. It asks the
/// connector for its status every <see cref="StatusInterval"/>, which also measures the round trip; a link
/// that misses <see cref="MaxMissedStatus"/> answers in a row is closed.
/// </summary>
internal sealed class ConnectorLink : IDisposable
{
    public static readonly TimeSpan StatusInterval = TimeSpan.FromSeconds(1);

    public const int MaxMissedStatus = 3;

    private static readonly Uri Origin = new("http://connector");

    private readonly ConnectionContext _connection;
    private readonly HttpMessageInvoker _status;
    private readonly TimeProvider _time;
    private int _openFlows;
    private int _used;

    public ConnectorLink(string connectorId, ConnectionContext connection, TimeProvider time)
    {
        ConnectorId = connectorId;
        _connection = connection;
        _time = time;
        var stream = new DuplexPipeStream(connection.Transport);
        var handler = new SocketsHttpHandler
        {
            // The connection exists once: when it ends, the link ends, and nothing dials again from here.
            ConnectCallback = (_, _) => Interlocked.Exchange(ref _used, 1) == 0
                ? ValueTask.FromResult<Stream>(stream)
                : ValueTask.FromException<Stream>(new HttpRequestException($"the link of connector {connectorId} is closed")),
            EnableMultipleHttp2Connections = false,
            UseProxy = false,
            AllowAutoRedirect = false,

            // The window a flow starts with; HttpClient widens it when the round trip needs more. The edge holds
            // what the connector sent until the device reads it: with 8 MiB per flow, a download the device took
            // slower than the connector sent kept 8 MiB in flight, taken beyond what the shared array pool holds
            // (170 MB allocated, with gen1 and gen2 collections, relaying 512 MB; dotnet-trace, bench/connector.sh).
            InitialHttp2StreamWindowSize = 1024 * 1024,
            KeepAlivePingDelay = TimeSpan.FromSeconds(5),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
        };
        _status = new HttpMessageInvoker(handler);
        Flows = new TunnelClient(new NonDisposingHandler(handler), Origin);
    }

    public string ConnectorId { get; }

    /// <summary>Opens flows over the link.</summary>
    public TunnelClient Flows { get; }

    /// <summary>Flows this edge has open through the link now.</summary>
    public int OpenFlows => Volatile.Read(ref _openFlows);

    /// <summary>The last status round trip.</summary>
    public TimeSpan RoundTrip { get; private set; } = TimeSpan.MaxValue;

    /// <summary>The connector's last status report.</summary>
    public ConnectorStatusReport? LastStatus { get; private set; }

    /// <summary>False once the connection ended or stopped answering.</summary>
    public bool Alive => !_connection.ConnectionClosed.IsCancellationRequested && _missed < MaxMissedStatus;

    private int _missed;

    /// <summary>Ends the link now (its flows with it).</summary>
    public void Close(string why) => _connection.Abort(new ConnectionAbortedException(why));

    public void FlowOpened() => Interlocked.Increment(ref _openFlows);

    public void FlowClosed() => Interlocked.Decrement(ref _openFlows);

    /// <summary>Whether the connector's last report says every server it checks for <paramref name="segment"/> on <paramref name="port"/> fails.</summary>
    public bool ReportsAllDown(string segment, int port)
    {
        var checks = LastStatus?.Servers.Where(s => s.Segment == segment && s.Port == port).ToList();
        return checks is { Count: > 0 } && checks.All(s => !s.Healthy);
    }

    /// <summary>Polls the connector's status until the connection ends or stops answering; then closes it.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(stopping, _connection.ConnectionClosed);
        try
        {
            while (!ended.IsCancellationRequested && _missed < MaxMissedStatus)
            {
                await PollAsync(ended.Token);
                await Task.Delay(StatusInterval, _time, ended.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // The connection ended or the edge is stopping.
        }
        finally
        {
            _connection.Abort(new ConnectionAbortedException($"the link of connector {ConnectorId} ended"));
        }
    }

    private async Task PollAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(StatusInterval * MaxMissedStatus);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Origin, ConnectorProtocol.StatusPath))
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            using var response = await _status.SendAsync(request, timeout.Token);
            response.EnsureSuccessStatusCode();
            LastStatus = await response.Content.ReadFromJsonAsync<ConnectorStatusReport>(timeout.Token);
            RoundTrip = Stopwatch.GetElapsedTime(started);
            _missed = 0;
        }
        catch (Exception e) when (e is HttpRequestException or HttpIOException or IOException or System.Text.Json.JsonException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            _missed++;
        }
    }

    public void Dispose()
    {
        Flows.Dispose();
        _status.Dispose();
    }

    /// <summary>The status poller owns the handler; the flow client shares it.</summary>
    private sealed class NonDisposingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override void Dispose(bool disposing)
        {
        }
    }
}
