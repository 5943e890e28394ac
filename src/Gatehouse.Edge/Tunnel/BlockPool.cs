using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Edge.Tunnel;

/// <summary>
/// A memory pool whose blocks are all <see cref="MaxBufferSize"/> bytes, for the tunnel listener where Kestrel's
/// own 4 KiB blocks cut bulk flows into small pieces. Returned blocks are kept for the next rent, up to
/// <see cref="MaxKeptBytes"/>, as Kestrel keeps its own.
/// </summary>
/// <remarks>
/// A block keeps its array across rents, as Kestrel's own blocks do: Kestrel's pipes rent a block per segment,
/// and a first version that wrapped an array from the shared array pool in a new owner per rent allocated
/// 38 MB of owners while the edge relayed 512 MB from a connector (dotnet-trace, GC allocation ticks).
/// </remarks>
internal sealed class BlockPool : MemoryPool<byte>
{
    /// <summary>The largest TLS plaintext record (RFC 8446, section 5.1).</summary>
    public const int TlsRecordSize = 16 * 1024;

    /// <summary>
    /// What the tunnel listener's sockets read into: four full TLS records a receive, where Kestrel's 4 KiB
    /// blocks took a receive (and a peek before it) per quarter record (strace of the edge under
    /// bench/connector.sh: 4,096-byte <c>recvfrom</c>s from a connector sending 16,406-byte records).
    /// </summary>
    public const int SocketReadSize = 64 * 1024;

    /// <summary>What the pool keeps of returned blocks at most.</summary>
    public const int MaxKeptBytes = 8 * 1024 * 1024;

    private readonly int _blockSize;
    private readonly int _maxKept;
    private readonly ConcurrentQueue<Block> _kept = new();
    private int _keptCount;

    public BlockPool(int blockSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        _blockSize = blockSize;
        _maxKept = Math.Max(1, MaxKeptBytes / blockSize);
    }

    public override int MaxBufferSize => _blockSize;

    /// <summary>Returned blocks kept for the next rents.</summary>
    public int Kept => Volatile.Read(ref _keptCount);

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > _blockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(minBufferSize), minBufferSize, $"blocks are {_blockSize} bytes");
        }

        if (_kept.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _keptCount);
        }
        else
        {
            block = new Block(this, GC.AllocateUninitializedArray<byte>(_blockSize));
        }

        block.Rented();
        return block;
    }

    protected override void Dispose(bool disposing)
    {
    }

    /// <summary>Gives Kestrel's socket transport, which asks the host's services for its pool, blocks of <see cref="SocketReadSize"/>.</summary>
    public sealed class SocketFactory : IMemoryPoolFactory<byte>
    {
        public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new BlockPool(SocketReadSize);
    }

    private void Return(Block block)
    {
        if (Interlocked.Increment(ref _keptCount) <= _maxKept)
        {
            _kept.Enqueue(block);
        }
        else
        {
            Interlocked.Decrement(ref _keptCount);
        }
    }

    /// <summary>A block and its array, kept together across rents (as Kestrel keeps its blocks).</summary>
    private sealed class Block(BlockPool pool, byte[] array) : IMemoryOwner<byte>
    {
        private int _rented;

        public Memory<byte> Memory => Volatile.Read(ref _rented) == 1 ? array : throw new ObjectDisposedException(nameof(Block));

        public void Rented() => Volatile.Write(ref _rented, 1);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _rented, 0) == 1)
            {
                pool.Return(this);
            }
        }
    }
}
