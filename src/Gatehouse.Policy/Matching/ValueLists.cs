namespace Gatehouse.Policy.Matching;

/// <summary>
/// Lists of small integers per slot, stored flat (CSR): slot <c>s</c> owns
/// <c>Values[Start[s]..Start[s + 1]]</c>, without duplicates, in descending order.
/// </summary>
internal sealed class ValueLists
{
    public static readonly ValueLists Empty = new([0], []);

    public ValueLists(int[] start, int[] values)
    {
        Start = start;
        Values = values;
    }

    public int[] Start { get; }

    public int[] Values { get; }

    public int SlotCount => Start.Length - 1;

    public ReadOnlySpan<int> this[int slot] => Values.AsSpan(Start[slot], Start[slot + 1] - Start[slot]);

    public int Count(int slot) => Start[slot + 1] - Start[slot];
}

/// <summary>Collects (slot, value) pairs in any order and builds <see cref="ValueLists"/> with a counting sort.</summary>
internal sealed class ValueListsBuilder
{
    private int[] slots = new int[16];
    private int[] values = new int[16];
    private int count;

    public int PairCount => count;

    public void Add(int slot, int value)
    {
        if (count == slots.Length)
        {
            Array.Resize(ref slots, count * 2);
            Array.Resize(ref values, count * 2);
        }

        slots[count] = slot;
        values[count] = value;
        count++;
    }

    public ValueLists Build(int slotCount)
    {
        var start = new int[slotCount + 1];
        for (var i = 0; i < count; i++)
        {
            start[slots[i] + 1]++;
        }

        for (var s = 0; s < slotCount; s++)
        {
            start[s + 1] += start[s];
        }

        var next = new int[slotCount];
        Array.Copy(start, next, slotCount);
        var sorted = new int[count];
        for (var i = 0; i < count; i++)
        {
            sorted[next[slots[i]]++] = values[i];
        }

        // Sort each slot descending and drop duplicates, compacting in place.
        var write = 0;
        var compactStart = new int[slotCount + 1];
        for (var s = 0; s < slotCount; s++)
        {
            compactStart[s] = write;
            var from = start[s];
            var length = start[s + 1] - from;
            if (length == 0)
            {
                continue;
            }

            var span = sorted.AsSpan(from, length);
            if (length > 1)
            {
                span.Sort(static (a, b) => b.CompareTo(a));
            }

            var previous = -1;
            for (var i = 0; i < span.Length; i++)
            {
                if (i == 0 || span[i] != previous)
                {
                    sorted[write++] = span[i];
                    previous = span[i];
                }
            }
        }

        compactStart[slotCount] = write;
        Array.Resize(ref sorted, write);
        return new ValueLists(compactStart, sorted);
    }
}
