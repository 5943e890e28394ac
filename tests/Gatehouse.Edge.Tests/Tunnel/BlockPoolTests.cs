using Gatehouse.Edge.Tunnel;

namespace Gatehouse.Edge.Tests.Tunnel;

/// <summary>The tunnel listener's pool of fixed-size blocks.</summary>
public sealed class BlockPoolTests
{
    [Fact]
    public void Every_block_has_the_pool_size_whatever_is_asked()
    {
        using var pool = new BlockPool(64 * 1024);

        using var any = pool.Rent();
        using var small = pool.Rent(100);
        using var exact = pool.Rent(64 * 1024);

        Assert.Equal(64 * 1024, pool.MaxBufferSize);
        Assert.All(new[] { any, small, exact }, b => Assert.Equal(64 * 1024, b.Memory.Length));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent((64 * 1024) + 1));
    }

    [Fact]
    public void A_returned_block_is_rented_again_with_its_array()
    {
        using var pool = new BlockPool(16 * 1024);
        var first = pool.Rent();
        first.Memory.Span[0] = 42;
        var array = first.Memory;
        first.Dispose();

        using var second = pool.Rent();

        Assert.Same(first, second);
        Assert.True(array.Span == second.Memory.Span, "the same array");
        Assert.Equal(0, pool.Kept);
    }

    [Fact]
    public void A_block_returned_twice_is_kept_once()
    {
        using var pool = new BlockPool(16 * 1024);
        var block = pool.Rent();

        block.Dispose();
        block.Dispose();

        Assert.Equal(1, pool.Kept);
        Assert.Throws<ObjectDisposedException>(() => block.Memory);
    }

    [Fact]
    public void The_pool_keeps_at_most_its_limit_of_returned_blocks()
    {
        const int size = 1024 * 1024;
        using var pool = new BlockPool(size);
        var blocks = Enumerable.Range(0, (BlockPool.MaxKeptBytes / size) + 5).Select(_ => pool.Rent()).ToList();

        blocks.ForEach(b => b.Dispose());

        Assert.Equal(BlockPool.MaxKeptBytes / size, pool.Kept);
    }

    [Fact]
    public async Task Blocks_rented_and_returned_from_many_threads_are_never_handed_out_twice_at_once()
    {
        using var pool = new BlockPool(4 * 1024);
        var inUse = new System.Collections.Concurrent.ConcurrentDictionary<object, bool>(ReferenceEqualityComparer.Instance);
        var clash = 0;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                var block = pool.Rent();
                if (!inUse.TryAdd(block, true))
                {
                    Interlocked.Increment(ref clash);
                }

                inUse.TryRemove(block, out var _);
                block.Dispose();
            }
        })));

        Assert.Equal(0, clash);
        Assert.InRange(pool.Kept, 1, 8);
    }
}
