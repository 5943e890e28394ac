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
internal sealed class TlsRecordPool : MemoryPool<byte>
{
    /// <summary>The largest TLS plaintext record (RFC 8446, section 5.1).</summary>
    public const int RecordSize = 16 * 1024;

    public static readonly TlsRecordPool Instance = new();

    public override int MaxBufferSize => RecordSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1) =>
        new Block(ArrayPool<byte>.Shared.Rent(Math.Max(minBufferSize, RecordSize)));

    protected override void Dispose(bool disposing)
    {
    }

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

    private sealed class Block(byte[] array) : IMemoryOwner<byte>
    {
        private byte[]? _array = array;

        public Memory<byte> Memory => _array ?? throw new ObjectDisposedException(nameof(Block));

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _array, null) is { } array)
            {
                ArrayPool<byte>.Shared.Return(array);
            }
        }
    }
}
