using System.Buffers;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Gatehouse.Edge.Tunnel;

/// <summary>
/// Full-size TLS records on the tunnel listener: the pipe Kestrel puts in front of the TLS stream takes its
/// buffers from this pool, whose blocks are 16 KiB, instead of from Kestrel's 4 KiB blocks.
/// </summary>
/// <remarks>
/// Kestrel hands the TLS stream one write per block of its output pipe, and each write becomes a TLS record of
/// its own: with 4 KiB blocks a bulk stream is cut into four times as many records as TLS allows, each one
/// sealed, framed and copied on its own (strace of the edge under bench/edge.sh round c: writes of 4,118 bytes,
/// a 4,096-byte record with its 22 bytes of TLS 1.3 framing). The HTTP/2 connection above keeps Kestrel's pool:
/// <see cref="Around"/> swaps this one in only for the TLS middleware between its two halves.
/// </remarks>
internal static class TlsRecordPool
{
    /// <summary>Blocks of one full TLS record.</summary>
    public static readonly MemoryPool<byte> Instance = new BlockPool(BlockPool.TlsRecordSize);

    /// <summary>
    /// The two connection middlewares that go around <c>UseHttps</c>: the first gives the TLS middleware this
    /// pool, the second gives the original one back to what runs on top of TLS.
    /// </summary>
    public static (Func<ConnectionDelegate, ConnectionDelegate> Before, Func<ConnectionDelegate, ConnectionDelegate> After) Around()
    {
        return (next => connection => Swap(next, connection, Instance), next => connection => Restore(next, connection));

        static Task Swap(ConnectionDelegate next, ConnectionContext connection, MemoryPool<byte> pool)
        {
            var original = connection.Features.Get<IMemoryPoolFeature>();
            connection.Features.Set<IMemoryPoolFeature>(new PoolFeature(pool, original));
            return next(connection);
        }

        static Task Restore(ConnectionDelegate next, ConnectionContext connection)
        {
            if (connection.Features.Get<IMemoryPoolFeature>() is PoolFeature { Original: var original })
            {
                connection.Features.Set(original);
            }

            return next(connection);
        }
    }

    private sealed class PoolFeature(MemoryPool<byte> pool, IMemoryPoolFeature? original) : IMemoryPoolFeature
    {
        public MemoryPool<byte> MemoryPool { get; } = pool;

        public IMemoryPoolFeature? Original { get; } = original;
    }
}
