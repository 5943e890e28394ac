using System.Net;
using Gatehouse.Edge.Flows;
using Gatehouse.Edge.Private;
using Gatehouse.Hosting;
using Gatehouse.Wire.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace Gatehouse.Edge.Tunnel;

/// <summary>
/// The agent tunnel listener as a Kestrel server of its own, beside the one that serves the forward proxy
/// and the operations endpoints. App connectors link in on it too (ALPN <c>gatehouse-connector/1</c>), and the two
/// ends of a relayed private flow meet on it (<see cref="RelayRendezvous"/>).
/// </summary>
/// <remarks>
/// Its sockets schedule pipe continuations on the thread pool, where the proxy's run them inline. One
/// Kestrel server has one transport setting: inline scheduling took the proxy's CONNECT downloads from
/// 899 to 1,107 MB/s but held a tunnel stream, whose HTTP/2 framing and TLS then serialise on the socket
/// thread, to 191 MB/s against 447 MB/s without it (bench/edge.sh, rounds b and c).
/// </remarks>
internal sealed class TunnelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ListenOptions _listener;

    private TunnelServer(WebApplication app, ListenOptions listener)
    {
        _app = app;
        _listener = listener;
    }

    /// <summary>Where it listens (with the real port when 0 was asked), once started.</summary>
    public IPEndPoint Address => _listener.EndPoint as IPEndPoint ?? throw new InvalidOperationException("The tunnel listener is not bound to an IP endpoint.");

    public static TunnelServer Create(IPEndPoint endpoint, EdgeLimits limits, TunnelTls tls, TunnelHandler handler, ConnectorLinks connectors, RelayRendezvous relays, DeviceConnectionLimit devices)
    {
        var builder = ServerHost.CreateSlimBuilder();
        ListenOptions? listener = null;
        builder.WebHost.UseSockets(sockets =>
        {
            sockets.MaxWriteBufferSize = 1024 * 1024;

            // Agents' reachability probes (ReachabilityProbe) reset before sending anything: held in the kernel, never accepted.
            sockets.CreateBoundListenSocket = endpoint =>
            {
                var socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
                ReachabilityProbe.DeferAccept(socket);
                return socket;
            };
        });
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>, BlockPool.SocketFactory>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false; // as the portal: answers do not name the server software
            kestrel.Limits.MaxConcurrentConnections = limits.MaxConnections;

            // Tunnel streams are TCP flows: long-lived, often quiet, sometimes bulk.
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Limits.MinResponseDataRate = null;
            kestrel.Limits.Http2.MaxStreamsPerConnection = limits.MaxStreamsPerConnection;

            // One limit for a request head, the forward proxy's: Kestrel's request line limit (8 KiB, counted over the
            // pseudo-headers) reset a stream with a long :path, where the handler answers 414 with the reason.
            kestrel.Limits.MaxRequestLineSize = limits.MaxHeadBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = limits.MaxHeadBytes;
            kestrel.Limits.Http2.MaxRequestHeaderFieldSize = limits.MaxHeadBytes;
            kestrel.Limits.Http2.InitialConnectionWindowSize = limits.TunnelConnectionWindowBytes;
            kestrel.Limits.Http2.InitialStreamWindowSize = limits.TunnelStreamWindowBytes;
            kestrel.Listen(endpoint, listen =>
            {
                listener = listen;
                listen.Protocols = HttpProtocols.Http2;

                // The ends of relayed private flows come in on this port too, with a preamble instead of TLS.
                listen.Use(next => connection => relays.ServeAsync(next, connection));
                var (quietFailures, handshakeDone) = TlsHandshakeFailures.Around(tls.HandshakeFailed);
                listen.Use(quietFailures);
                var (fullRecords, kestrelBlocks) = TlsRecordPool.Around();
                listen.Use(fullRecords);
                listen.UseHttps(new TlsHandshakeCallbackOptions
                {
                    OnConnection = tls.OnConnection,

                    // A client that stalls in the handshake is cut as a slow-header client is, not after Kestrel's 10 s.
                    HandshakeTimeout = limits.HeaderTimeout,
                });
                listen.Use(handshakeDone);
                listen.Use(kestrelBlocks);
                listen.Use(next => connection => connectors.ServeAsync(next, connection));
                listen.Use(next => connection => devices.ServeAsync(next, connection));
            });
        });

        // The edge's host owns SIGTERM and the drain; this server is started and stopped with it.
        builder.Services.AddSingleton<IHostLifetime, StartedByTheEdge>();
        var app = builder.Build();
        app.Run(handler.HandleAsync);
        return new TunnelServer(app, listener!);
    }

    public Task StartAsync(CancellationToken ct) => _app.StartAsync(ct);

    public Task StopAsync(CancellationToken ct) => _app.StopAsync(ct);

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private sealed class StartedByTheEdge : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
