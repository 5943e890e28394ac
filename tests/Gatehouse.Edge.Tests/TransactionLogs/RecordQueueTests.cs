using Gatehouse.Edge.TransactionLogs;
using Gatehouse.Testing;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Edge.Tests.TransactionLogs;

public sealed class RecordQueueTests
{
    [Fact]
    public void A_full_queue_refuses_at_once_and_takes_again_after_a_dequeue()
    {
        var queue = new RecordQueue(3);
        Assert.Equal(4, queue.Capacity);
        for (var i = 0; i < 4; i++)
        {
            Assert.True(queue.TryEnqueue(TestRecords.Flow(i)));
        }

        Assert.False(queue.TryEnqueue(TestRecords.Flow(4)));
        Assert.Equal(4, queue.Count);

        Assert.True(queue.TryDequeue(out var first));
        Assert.Equal("site0.example", first.Host);
        Assert.True(queue.TryEnqueue(TestRecords.Flow(5)));

        var hosts = new List<string>();
        while (queue.TryDequeue(out var record))
        {
            hosts.Add(record.Host);
        }

        Assert.Equal(["site1.example", "site2.example", "site3.example", "site5.example"], hosts);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void A_queue_of_one_holds_two_because_one_cell_cannot_tell_full_from_free()
    {
        var queue = new RecordQueue(1);

        Assert.Equal(2, queue.Capacity);
        Assert.True(queue.TryEnqueue(TestRecords.Flow(1)));
        Assert.True(queue.TryEnqueue(TestRecords.Flow(2)));
        Assert.False(queue.TryEnqueue(TestRecords.Flow(3)));
    }

    [Fact]
    public async Task Many_writers_and_one_reader_lose_and_duplicate_nothing()
    {
        const int writers = 4;
        const int perWriter = 200_000;
        var queue = new RecordQueue(1024);
        var records = new TransactionLogRecord[writers * perWriter];
        for (var i = 0; i < records.Length; i++)
        {
            records[i] = TestRecords.Flow(i);
        }

        var refused = 0L;
        var done = 0;
        var seen = new bool[records.Length];
        var read = 0;
        var reader = Task.Run(() =>
        {
            while (true)
            {
                if (queue.TryDequeue(out var record))
                {
                    var n = (int)record.BytesUp;
                    Assert.False(seen[n], $"record {n} came out twice");
                    seen[n] = true;
                    read++;
                }
                else if (Volatile.Read(ref done) == writers && queue.Count == 0)
                {
                    return;
                }
            }
        });
        var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(() =>
        {
            for (var i = w * perWriter; i < (w + 1) * perWriter; i++)
            {
                if (!queue.TryEnqueue(records[i]))
                {
                    Interlocked.Increment(ref refused);
                }
            }

            Interlocked.Increment(ref done);
        })).ToArray();

        await Task.WhenAll(tasks).DefaultTimeout();
        await reader.DefaultTimeout();

        Assert.Equal(records.Length, read + refused);
    }
}
