using System.Net;
using System.Net.Sockets;
using Gatehouse.Wire.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatehouse.Edge.Hosting;

/// <summary>
/// Kestrel's socket transport with an accept loop that pauses while the process is out of descriptors or memory.
/// Kestrel's own loop takes any failed accept for a connection reset in the backlog and tries again at once: with
/// the descriptor limit reached and a client waiting, each try fails at once too, and the loop threw exceptions on a
/// whole core (390 ticks in 4 s under <c>ulimit -n 300</c> with 400 clients waiting; 4 with this) while the flows it
/// serves waited. Here a failed accept for want of resources waits, from 10 ms doubling to a second, and is logged at
/// most once a minute.
/// Connections themselves are Kestrel's (<see cref="SocketConnectionContextFactory"/>).
/// </summary>
public sealed partial class PausingSocketTransport : IConnectionListenerFactory, IConnectionListenerFactorySelector, IDisposable
{
    /// <summary>The first wait after an accept failed for want of resources.</summary>
    public static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest wait between tries.</summary>
    public static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(1);

    private const int Backlog = 512;

    private readonly SocketConnectionContextFactory _connections;
    private readonly ILogger _logger;

    /// <summary>Creates the transport.</summary>
    /// <param name="options">How connections are set up (Kestrel's own options for them).</param>
    /// <param name="logger">Where pauses are logged.</param>
    public PausingSocketTransport(SocketConnectionFactoryOptions options, ILogger<PausingSocketTransport> logger)
    {
        _connections = new SocketConnectionContextFactory(options, logger);
        _logger = logger;
    }

    /// <summary>Makes this the only transport of the server whose <paramref name="services"/> these are.</summary>
    /// <param name="services">The server's services.</param>
    /// <param name="options">How connections are set up.</param>
    public static void Use(IServiceCollection services, SocketConnectionFactoryOptions options)
    {
        services.RemoveAll<IConnectionListenerFactory>();
        services.AddSingleton(options);
        services.AddSingleton<IConnectionListenerFactory, PausingSocketTransport>();
    }

    /// <inheritdoc />
    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;

    /// <inheritdoc />
    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var socket = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
        socket.Listen(Backlog);
        var accept = (CancellationToken ct) => socket.AcceptAsync(ct);
        return ValueTask.FromResult<IConnectionListener>(new Listener(socket, accept, _connections, _logger));
    }

    /// <inheritdoc />
    public void Dispose() => _connections.Dispose();

    [LoggerMessage(1020, LogLevel.Warning, "Accepting connections on {Endpoint} paused: {Error}. Trying again every {PauseMs} ms at most; raise the descriptor limit (LimitNOFILE) or lower --max-connections")]
    private static partial void AcceptPaused(ILogger logger, EndPoint endpoint, string error, double pauseMs);

    [LoggerMessage(1021, LogLevel.Information, "Accepting connections on {Endpoint} again after {Failures} failed tries")]
    private static partial void AcceptResumed(ILogger logger, EndPoint endpoint, int failures);

    /// <summary>One listening socket and its accept loop.</summary>
    internal sealed class Listener : IConnectionListener
    {
        private const long WarningIntervalMs = 60_000;
        private readonly Socket _socket;
        private readonly Func<CancellationToken, ValueTask<Socket>> _accept;
        private readonly SocketConnectionContextFactory _connections;
        private readonly ILogger _logger;
        private long _lastWarning = -WarningIntervalMs;

        /// <param name="socket">The bound, listening socket.</param>
        /// <param name="accept">Accepts one connection on it (a test gives its own).</param>
        /// <param name="connections">Makes Kestrel's connection of an accepted socket.</param>
        /// <param name="logger">Where pauses are logged.</param>
        internal Listener(Socket socket, Func<CancellationToken, ValueTask<Socket>> accept, SocketConnectionContextFactory connections, ILogger logger)
        {
            _socket = socket;
            _accept = accept;
            _connections = connections;
            _logger = logger;
            EndPoint = socket.LocalEndPoint!;
        }

        public EndPoint EndPoint { get; }

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            var failures = 0;
            var logged = false;
            var pause = FirstPause;
            while (true)
            {
                try
                {
                    var accepted = await _accept(cancellationToken);
                    if (logged)
                    {
                        AcceptResumed(_logger, EndPoint, failures);
                    }

                    accepted.NoDelay = true;
                    return _connections.Create(accepted);
                }
                catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException or SocketException { SocketErrorCode: SocketError.OperationAborted })
                {
                    return null; // unbound, or stopping
                }
                catch (SocketException e) when (LocalExhaustion.Is(e.SocketErrorCode))
                {
                    // At a limit that frees one descriptor at a time, every accept is a pause: one warning a minute.
                    if (failures++ == 0 && Environment.TickCount64 - _lastWarning >= WarningIntervalMs)
                    {
                        _lastWarning = Environment.TickCount64;
                        logged = true;
                        AcceptPaused(_logger, EndPoint, e.Message, LongestPause.TotalMilliseconds);
                    }
                }
                catch (SocketException)
                {
                    // A connection reset while it waited in the backlog: the next one, at once.
                    continue;
                }

                await Task.Delay(pause, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (cancellationToken.IsCancellationRequested)
                {
                    return null;
                }

                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, LongestPause.Ticks));
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            _socket.Dispose();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            _socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
