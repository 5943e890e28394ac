using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Gatehouse.Agent.Networks;
using Gatehouse.Wire.Dns;
using Gatehouse.Wire.Sockets;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Agent.Names;

/// <summary>
/// The agent's DNS resolver on loopback (UDP and TCP), where transparent mode redirects the machine's
/// DNS. A private app's name gets a synthetic address (A) or NODATA (AAAA and other types), never
/// NXDOMAIN, so that clients do not give up on the name; every other query goes unchanged to the
/// system's name servers from a socket that carries the agent's mark.
/// </summary>
internal sealed class LocalResolver : IAsyncDisposable
{
    /// <summary>The default address of the resolver.</summary>
    public const string DefaultListen = "127.0.0.1:9053";

    /// <summary>How long one upstream server gets to answer.</summary>
    public static readonly TimeSpan UpstreamTimeout = TimeSpan.FromSeconds(2);

    private readonly Socket _udp;
    private readonly Socket _tcp;
    private readonly SyntheticAddressSpace _synthetic;
    private readonly string _resolvConf;
    private readonly int? _mark;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _loops;
    private volatile PrivateAppNames _names = PrivateAppNames.None;
    private volatile KnownUpstreams _upstreams = new(string.Empty, []);

    private LocalResolver(Socket udp, Socket tcp, SyntheticAddressSpace synthetic, string resolvConf, int? mark, ILogger logger)
    {
        _udp = udp;
        _tcp = tcp;
        _synthetic = synthetic;
        _resolvConf = resolvConf;
        _mark = mark;
        _logger = logger;
        _loops = [UdpLoopAsync(), TcpLoopAsync()];
    }

    /// <summary>Where it answers (UDP and TCP on the same port).</summary>
    public IPEndPoint Address => (IPEndPoint)_udp.LocalEndPoint!;

    /// <summary>Binds UDP and TCP on <paramref name="endpoint"/> (port 0: one port free for both).</summary>
    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public static LocalResolver Start(IPEndPoint endpoint, SyntheticAddressSpace synthetic, string resolvConf, int? mark, ILogger logger)
    {
        var (udp, tcp) = BindBoth(endpoint);
        var resolver = new LocalResolver(udp, tcp, synthetic, resolvConf, mark, logger);
        AgentLog.Listening(logger, "DNS resolver", resolver.Address.ToString());
        return resolver;
    }

    /// <summary>How many ports <see cref="BindBoth"/> tries for port 0 before it gives up.</summary>
    private const int FreePortAttempts = 32;

    /// <summary>
    /// A UDP and a listening TCP socket on one port. For port 0 the kernel picks a port free for TCP, and UDP
    /// binds the same number; that number can be taken for UDP, so another is tried then. (Picked the other way
    /// round, a free UDP port was often a TCP port in use: local connections' ports come from the same range.)
    /// </summary>
    private static (Socket Udp, Socket Tcp) BindBoth(IPEndPoint endpoint)
    {
        for (var attempt = 1; ; attempt++)
        {
            var udp = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            var tcp = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                tcp.Bind(endpoint);
                udp.Bind(new IPEndPoint(endpoint.Address, ((IPEndPoint)tcp.LocalEndPoint!).Port));
                tcp.Listen(128);
                return (udp, tcp);
            }
            catch (Exception e)
            {
                udp.Dispose();
                tcp.Dispose();
                if (e is not SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || endpoint.Port != 0 || attempt == FreePortAttempts)
                {
                    throw;
                }
            }
        }
    }

    /// <summary>The private apps' names from the bundle in force.</summary>
    public void Use(PrivateAppNames names) => _names = names;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _udp.Dispose();
        _tcp.Dispose();
        await Task.WhenAll(_loops);
        _stop.Dispose();
    }

    /// <summary>The answer to one query: given here for a private app, from upstream otherwise.</summary>
    internal async Task<byte[]?> AnswerAsync(byte[] message, bool overTcp, CancellationToken ct)
    {
        if (!DnsMessage.TryReadQuery(message, out var query, out _))
        {
            return DnsMessage.Error(message, query, DnsResponseCodes.FormatError);
        }

        if (_names.Contains(query!.Name))
        {
            if (query.Type != DnsTypes.A)
            {
                return DnsMessage.Answer(message, query, address: null, SyntheticAddresses.Ttl);
            }

            return _synthetic.Current?.AddressFor(query.Name) is { } address
                ? DnsMessage.Answer(message, query, address, SyntheticAddresses.Ttl)
                : DnsMessage.Error(message, query, DnsResponseCodes.ServerFailure);
        }

        return await ForwardAsync(message, query, overTcp, ct) ?? DnsMessage.Error(message, query, DnsResponseCodes.ServerFailure);
    }

    /// <summary>
    /// The system's name servers that are not on loopback (a loopback stub such as systemd-resolved's is
    /// not redirected, and its own upstream queries come here): those of the resolver configuration,
    /// else those systemd-resolved forwards to. Read again only when a file's modification time changes,
    /// not on every query.
    /// </summary>
    private IReadOnlyList<IPEndPoint> Upstreams()
    {
        var stamp = $"{File.GetLastWriteTimeUtc(_resolvConf).Ticks}/{File.GetLastWriteTimeUtc(ResolvConf.SystemdResolvedUpstreams).Ticks}";
        var known = _upstreams;
        if (known.Stamp == stamp)
        {
            return known.Servers;
        }

        var servers = ReadUpstreams(_resolvConf);
        if (servers.Count == 0)
        {
            servers = ReadUpstreams(ResolvConf.SystemdResolvedUpstreams);
        }

        _upstreams = new KnownUpstreams(stamp, servers);
        return servers;
    }

    /// <summary>The name servers read, and the modification times they were read at (swapped whole, read without a lock).</summary>
    private sealed record KnownUpstreams(string Stamp, IReadOnlyList<IPEndPoint> Servers);

    private static List<IPEndPoint> ReadUpstreams(string path) =>
        [.. ResolvConf.Read(path).Servers
            .Select(s => IPAddress.TryParse(s, out var a) ? a : null)
            .Where(a => a is not null && !IPAddress.IsLoopback(a))
            .Select(a => new IPEndPoint(a!, 53))];

    private async Task<byte[]?> ForwardAsync(byte[] message, DnsQuery query, bool overTcp, CancellationToken ct)
    {
        foreach (var server in Upstreams())
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(UpstreamTimeout);
            try
            {
                return overTcp ? await ForwardTcpAsync(server, message, timeout.Token) : await ForwardUdpAsync(server, message, query.Id, timeout.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or IOException && !ct.IsCancellationRequested)
            {
                AgentLog.UpstreamDnsFailed(_logger, server.ToString(), query.Name, e.Message);
            }
        }

        return null;
    }

    private async Task<byte[]> ForwardUdpAsync(IPEndPoint server, byte[] message, ushort id, CancellationToken ct)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        SocketMark.ApplyIfSet(socket, _mark);
        await socket.ConnectAsync(server, ct);
        await socket.SendAsync(message, ct);
        var buffer = new byte[65535];
        while (true)
        {
            var length = await socket.ReceiveAsync(buffer, ct);
            // Only the answer to this query counts (the id must match; the connected socket takes only the server's).
            if (length >= 2 && BinaryPrimitives.ReadUInt16BigEndian(buffer) == id)
            {
                return buffer[..length];
            }
        }
    }

    private async Task<byte[]> ForwardTcpAsync(IPEndPoint server, byte[] message, CancellationToken ct)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        SocketMark.ApplyIfSet(socket, _mark);
        await socket.ConnectAsync(server, ct);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await WriteFramedAsync(stream, message, ct);
        return await ReadFramedAsync(stream, ct) ?? throw new IOException("The name server closed the connection without an answer.");
    }

    private async Task UdpLoopAsync()
    {
        var buffer = new byte[65535];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue; // an ICMP error from an earlier answer; keep serving
            }

            var message = buffer[..received.ReceivedBytes];
            var client = received.RemoteEndPoint;
            _ = Task.Run(async () =>
            {
                try
                {
                    if (await AnswerAsync(message, overTcp: false, _stop.Token) is { } answer)
                    {
                        await _udp.SendToAsync(answer, SocketFlags.None, client, _stop.Token);
                    }
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    // Stopping, or the client is gone.
                }
            });
        }
    }

    private async Task TcpLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _tcp.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            _ = ServeTcpAsync(client);
        }
    }

    private async Task ServeTcpAsync(Socket client)
    {
        await using var stream = new NetworkStream(client, ownsSocket: true);
        try
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            while (true)
            {
                idle.CancelAfter(TimeSpan.FromSeconds(10));
                var message = await ReadFramedAsync(stream, idle.Token);
                if (message is null || await AnswerAsync(message, overTcp: true, _stop.Token) is not { } answer)
                {
                    return;
                }

                await WriteFramedAsync(stream, answer, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // Idle, gone, or stopping.
        }
    }

    private static async Task WriteFramedAsync(Stream stream, byte[] message, CancellationToken ct)
    {
        var framed = new byte[2 + message.Length];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)message.Length);
        message.CopyTo(framed, 2);
        await stream.WriteAsync(framed, ct);
    }

    /// <summary>One length-prefixed message (RFC 1035 4.2.2), or null at the end of the stream.</summary>
    private static async Task<byte[]?> ReadFramedAsync(Stream stream, CancellationToken ct)
    {
        var prefix = new byte[2];
        var read = await stream.ReadAtLeastAsync(prefix, 2, throwOnEndOfStream: false, ct);
        if (read < 2)
        {
            return null;
        }

        var message = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
        await stream.ReadExactlyAsync(message, ct);
        return message;
    }
}
