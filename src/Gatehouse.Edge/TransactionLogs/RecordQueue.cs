using System.Numerics;
using System.Runtime.InteropServices;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Edge.TransactionLogs;

/// <summary>
/// A bounded queue of records with many writers and one reader that never blocks, never locks and
/// never allocates after construction (Dmitry Vyukov's bounded MPMC queue). A writer that finds the
/// queue full gets <see langword="false"/> at once.
/// </summary>
/// <remarks>
/// Every cell carries a sequence number: a cell is free for the writer at position <c>p</c> when its
/// sequence is <c>p</c>, and holds a record for the reader at position <c>p</c> when it is <c>p + 1</c>.
/// Writers claim a position with one compare-and-swap; the reader alone moves the read position.
/// </remarks>
internal sealed class RecordQueue
{
    private readonly Cell[] _cells;
    private readonly long _mask;
    private Positions _positions;

    /// <summary>Creates a queue of at least <paramref name="capacity"/> cells (rounded up to a power of two, at least two).</summary>
    public RecordQueue(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 1 << 30);

        // With one cell, "holds the record of position p" and "free for position p + 1" would be the same sequence.
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity, 2));
        _cells = new Cell[size];
        for (var i = 0; i < size; i++)
        {
            _cells[i].Sequence = i;
        }

        _mask = size - 1;
    }

    /// <summary>How many records the queue holds at most.</summary>
    public int Capacity => _cells.Length;

    /// <summary>Records waiting, as seen a moment ago (exact when no writer is in the middle of an enqueue).</summary>
    public int Count
    {
        get
        {
            var count = Volatile.Read(ref _positions.Enqueue) - Volatile.Read(ref _positions.Dequeue);
            return (int)Math.Clamp(count, 0, _cells.Length);
        }
    }

    /// <summary>Adds a record; safe from any number of threads.</summary>
    /// <returns><see langword="false"/> when the queue is full (nothing was added).</returns>
    public bool TryEnqueue(TransactionLogRecord record)
    {
        var position = Volatile.Read(ref _positions.Enqueue);
        while (true)
        {
            ref var cell = ref _cells[position & _mask];
            var difference = Volatile.Read(ref cell.Sequence) - position;
            if (difference == 0)
            {
                var seen = Interlocked.CompareExchange(ref _positions.Enqueue, position + 1, position);
                if (seen == position)
                {
                    cell.Record = record;
                    Volatile.Write(ref cell.Sequence, position + 1);
                    return true;
                }

                position = seen;
            }
            else if (difference < 0)
            {
                // The cell still holds the record of the previous lap: the queue is full.
                return false;
            }
            else
            {
                position = Volatile.Read(ref _positions.Enqueue);
            }
        }
    }

    /// <summary>Takes the oldest record; only the one reader may call this.</summary>
    /// <returns><see langword="false"/> when no record is ready.</returns>
    public bool TryDequeue(out TransactionLogRecord record)
    {
        var position = _positions.Dequeue;
        ref var cell = ref _cells[position & _mask];
        if (Volatile.Read(ref cell.Sequence) != position + 1)
        {
            record = null!;
            return false;
        }

        record = cell.Record!;
        cell.Record = null;
        Volatile.Write(ref _positions.Dequeue, position + 1);
        Volatile.Write(ref cell.Sequence, position + _cells.Length);
        return true;
    }

    private struct Cell
    {
        public long Sequence;
        public TransactionLogRecord? Record;
    }

    /// <summary>The two positions on cache lines of their own, so writers and the reader do not slow each other down.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct Positions
    {
        [FieldOffset(64)]
        public long Enqueue;

        [FieldOffset(128)]
        public long Dequeue;
    }
}
