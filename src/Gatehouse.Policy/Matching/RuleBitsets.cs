namespace Gatehouse.Policy.Matching;

/// <summary>
/// One criterion's index: for each value (a domain pattern, a group, a port range…) the set of
/// rules that name it, and the "any" set of rules that do not use the criterion at all. Value
/// sets are sparse bitsets: (word index, 64 bits) chunks in ascending word order. Rules are numbered in policy order, so
/// the lowest set bit of an intersection is the first matching rule.
/// </summary>
internal sealed class RuleBitsets
{
    private RuleBitsets(int words)
    {
        Any = new ulong[words];
    }

    /// <summary>Rules that do not use this criterion (dense, one bit per rule).</summary>
    public ulong[] Any { get; }

    /// <summary>True when at least one rule uses this criterion.</summary>
    public bool Active { get; private set; }

    /// <summary>Value <c>v</c> owns chunks <c>ValueChunkStart[v]..ValueChunkStart[v + 1]</c>.</summary>
    public int[] ValueChunkStart { get; private set; } = [0];

    /// <summary>The word index of each chunk.</summary>
    public int[] ChunkWord { get; private set; } = [];

    /// <summary>The bits of each chunk.</summary>
    public ulong[] ChunkBits { get; private set; } = [];

    /// <summary>Rule <c>r</c> names values <c>RuleValues[RuleValueStart[r]..RuleValueStart[r + 1]]</c>.</summary>
    public int[] RuleValueStart { get; private set; } = [0];

    /// <summary>The values each rule names.</summary>
    public int[] RuleValues { get; private set; } = [];

    /// <summary>The values rule <paramref name="rule"/> names (empty: the rule does not use the criterion).</summary>
    public ReadOnlySpan<int> ValuesOf(int rule) => RuleValues.AsSpan(RuleValueStart[rule], RuleValueStart[rule + 1] - RuleValueStart[rule]);

    /// <summary>Approximate managed bytes held.</summary>
    public long Bytes => (Any.Length * 8L) + (ValueChunkStart.Length * 4L) + (ChunkWord.Length * 12L)
        + (RuleValueStart.Length * 4L) + (RuleValues.Length * 4L);

    /// <summary>Collects (rule, value) pairs, rules in ascending order.</summary>
    internal sealed class Builder
    {
        private readonly int ruleCount;
        private readonly int[] ruleValueStart;
        private readonly List<int> ruleValues = [];
        private int currentRule = -1;

        public Builder(int ruleCount)
        {
            this.ruleCount = ruleCount;
            ruleValueStart = new int[ruleCount + 1];
        }

        /// <summary>Records that <paramref name="rule"/> names <paramref name="value"/>; rules must come in ascending order.</summary>
        public void Add(int rule, int value)
        {
            if (rule < currentRule)
            {
                throw new InvalidOperationException("Rules must be added in ascending order.");
            }

            while (currentRule < rule)
            {
                currentRule++;
                ruleValueStart[currentRule] = ruleValues.Count;
            }

            ruleValues.Add(value);
        }

        public RuleBitsets Build(int valueCount)
        {
            while (currentRule < ruleCount)
            {
                currentRule++;
                ruleValueStart[currentRule] = ruleValues.Count;
            }

            var words = (ruleCount + 63) >> 6;
            var result = new RuleBitsets(words)
            {
                RuleValueStart = ruleValueStart,
                RuleValues = [.. ruleValues],
            };

            // Rules per value by a stable counting sort, so each value's rules stay ascending.
            var perValue = new int[valueCount + 1];
            foreach (var value in result.RuleValues)
            {
                perValue[value + 1]++;
            }

            for (var v = 0; v < valueCount; v++)
            {
                perValue[v + 1] += perValue[v];
            }

            var next = (int[])perValue.Clone();
            var rulesByValue = new int[result.RuleValues.Length];
            for (var rule = 0; rule < ruleCount; rule++)
            {
                if (ruleValueStart[rule + 1] == ruleValueStart[rule])
                {
                    result.Any[rule >> 6] |= 1UL << (rule & 63);
                }
                else
                {
                    result.Active = true;
                    foreach (var value in result.ValuesOf(rule))
                    {
                        rulesByValue[next[value]++] = rule;
                    }
                }
            }

            var chunkStart = new int[valueCount + 1];
            var chunkWord = new List<int>();
            var chunkBits = new List<ulong>();
            for (var v = 0; v < valueCount; v++)
            {
                chunkStart[v] = chunkWord.Count;
                for (var i = perValue[v]; i < perValue[v + 1]; i++)
                {
                    var rule = rulesByValue[i];
                    var word = rule >> 6;
                    if (chunkWord.Count > chunkStart[v] && chunkWord[^1] == word)
                    {
                        chunkBits[^1] |= 1UL << (rule & 63);
                    }
                    else
                    {
                        chunkWord.Add(word);
                        chunkBits.Add(1UL << (rule & 63));
                    }
                }
            }

            chunkStart[valueCount] = chunkWord.Count;
            result.ValueChunkStart = chunkStart;
            result.ChunkWord = [.. chunkWord];
            result.ChunkBits = [.. chunkBits];
            return result;
        }
    }
}
