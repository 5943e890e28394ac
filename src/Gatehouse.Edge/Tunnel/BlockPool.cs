using System.Buffers;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Edge.Tunnel;

/// <summary>
/// A memory pool whose blocks are all <see cref="MaxBufferSize"/> bytes, rented from the shared array pool, for
/// the tunnel listener where Kestrel's own 4 KiB blocks cut bulk flows into small pieces.
/// </summary>
internal sealed class BlockPool(int blockSize) : MemoryPool<byte>
{
    /// <summary>The largest TLS plaintext record (RFC 8446, section 5.1).</summary>
    public const int TlsRecordSize = 16 * 1024;

    /// <summary>
    /// What the tunnel listener's sockets read into: four full TLS records a receive, where Kestrel's 4 KiB
    /// blocks took a receive (and a peek before it) per quarter record (strace of the edge under
    /// bench/connector.sh: 4,096-byte <c>recvfrom</c>s from a connector sending 16,406-byte records).
    /// </summary>
    public const int SocketReadSize = 64 * 1024;

    public override int MaxBufferSize => blockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1) =>
        new Block(ArrayPool<byte>.Shared.Rent(Math.Max(minBufferSize, blockSize)));

    protected override void Dispose(bool disposing)
    {
    }

    /// <summary>Gives Kestrel's socket transport, which asks the host's services for its pool, blocks of <see cref="SocketReadSize"/>.</summary>
    public sealed class SocketFactory : IMemoryPoolFactory<byte>
    {
        public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new BlockPool(SocketReadSize);
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
