using System.Security.Cryptography;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace Gatehouse.Edge.Tunnel;

/// <summary>
/// Holds each device certificate to <see cref="Flows.EdgeLimits.MaxConnectionsPerDevice"/> agent connections at once on
/// the tunnel listener: a device's connection beyond that closes its oldest. An agent needs one connection (another
/// per 1,000 flows), but each may make the edge hold 16 MiB of uploads its destinations have not taken yet
/// (HTTP/2's connection window), so a device that opened connections without end could take the edge's memory.
/// </summary>
/// <remarks>
/// The oldest goes, not the newest: a device that moved to another network has connections the edge still holds
/// open (they end at the flows' idle timeout), and it is on the new one that the device is.
/// </remarks>
internal sealed class DeviceConnectionLimit
{
    private readonly int _limit;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedList<ConnectionContext>> _open = new(StringComparer.Ordinal);
    private long _closed;

    public DeviceConnectionLimit(int limit, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        _limit = limit;
        _logger = logger;
    }

    /// <summary>Connections closed for a newer one of their device, since start.</summary>
    public long Closed => Interlocked.Read(ref _closed);

    /// <summary>How many devices hold a connection now.</summary>
    internal int Devices
    {
        get
        {
            lock (_lock)
            {
                return _open.Count;
            }
        }
    }

    /// <summary>Kestrel connection middleware, after TLS: counts the connection under its client certificate while it is open.</summary>
    public async Task ServeAsync(ConnectionDelegate next, ConnectionContext connection)
    {
        // No certificate: the handshake refuses that; it never reaches a flow.
        var certificate = connection.Features.Get<ITlsConnectionFeature>()?.ClientCertificate;
        if (certificate is null)
        {
            await next(connection);
            return;
        }

        var device = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        var held = Open(device, connection);
        if (held.Oldest is { } oldest)
        {
            TunnelLog.DeviceConnectionsOverLimit(_logger, oldest.RemoteEndPoint?.ToString() ?? "unknown", certificate.Subject, _limit);
            oldest.Abort(new ConnectionAbortedException($"The device opened more than {_limit} connections; this is its oldest."));
        }

        try
        {
            await next(connection);
        }
        finally
        {
            Close(device, held.Node);
        }
    }

    /// <summary>Counts <paramref name="connection"/> under <paramref name="device"/>; returns the oldest to close when that makes one too many.</summary>
    internal (LinkedListNode<ConnectionContext> Node, ConnectionContext? Oldest) Open(string device, ConnectionContext connection)
    {
        lock (_lock)
        {
            if (!_open.TryGetValue(device, out var connections))
            {
                _open[device] = connections = new LinkedList<ConnectionContext>();
            }

            var node = connections.AddLast(connection);
            if (connections.Count <= _limit)
            {
                return (node, null);
            }

            var oldest = connections.First!.Value;
            connections.RemoveFirst();
            Interlocked.Increment(ref _closed);
            return (node, oldest);
        }
    }

    /// <summary>Stops counting a connection (once it ended, or was closed as its device's oldest); a device with none is forgotten.</summary>
    internal void Close(string device, LinkedListNode<ConnectionContext> node)
    {
        lock (_lock)
        {
            if (node.List is { } connections)
            {
                connections.Remove(node);
                if (connections.Count == 0)
                {
                    _open.Remove(device);
                }
            }
        }
    }
}
