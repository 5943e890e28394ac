namespace Gatehouse.Policy.Matching;

/// <summary>
/// Port ranges cut into elementary intervals: every port maps to one interval, and each interval
/// lists the ranges (values) that cover it, so a lookup is two array reads.
/// </summary>
internal sealed class PortIndex
{
    private readonly ushort[] intervalOfPort;
    private readonly ValueLists lists;

    private PortIndex(ushort[] intervalOfPort, ValueLists lists, int maxMatches)
    {
        this.intervalOfPort = intervalOfPort;
        this.lists = lists;
        MaxMatches = maxMatches;
    }

    /// <summary>The most values one <see cref="Match"/> can write.</summary>
    public int MaxMatches { get; }

    /// <summary>Builds the index for ranges given as (low, high) inclusive, value <c>i</c> being <c>ranges[i]</c>.</summary>
    public static PortIndex Build(IReadOnlyList<(int Low, int High)> ranges)
    {
        // Boundaries where coverage can change: every low and every high + 1.
        var cuts = new SortedSet<int> { 0 };
        foreach (var (low, high) in ranges)
        {
            cuts.Add(low);
            if (high < 65535)
            {
                cuts.Add(high + 1);
            }
        }

        var starts = new int[cuts.Count];
        cuts.CopyTo(starts);
        var intervalOfPort = new ushort[65536];
        for (var i = 0; i < starts.Length; i++)
        {
            var end = i + 1 < starts.Length ? starts[i + 1] : 65536;
            intervalOfPort.AsSpan(starts[i], end - starts[i]).Fill((ushort)i);
        }

        var builder = new ValueListsBuilder();
        for (var value = 0; value < ranges.Count; value++)
        {
            var (low, high) = ranges[value];
            for (int i = intervalOfPort[low], last = intervalOfPort[high]; i <= last; i++)
            {
                builder.Add(i, value);
            }
        }

        var lists = builder.Build(starts.Length);
        var max = 0;
        for (var i = 0; i < starts.Length; i++)
        {
            max = Math.Max(max, lists.Count(i));
        }

        return new PortIndex(intervalOfPort, lists, max);
    }

    /// <summary>Writes the values whose range contains <paramref name="port"/>; returns how many.</summary>
    public int Match(int port, Span<int> output)
    {
        if ((uint)port > 65535)
        {
            return 0;
        }

        var values = lists[intervalOfPort[port]];
        values.CopyTo(output);
        return values.Length;
    }
}
