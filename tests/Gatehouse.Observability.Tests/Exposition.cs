using System.Globalization;
using System.Text.RegularExpressions;

namespace Gatehouse.Observability.Tests;

/// <summary>
/// A small line-based checker of the Prometheus text format 0.0.4, strict enough to catch what a scraper refuses:
/// malformed samples or labels, a family typed twice, a sample before (or without) its family's TYPE line.
/// </summary>
internal static partial class Exposition
{
    /// <summary>Checks <paramref name="text"/> and returns its samples, keyed by <c>name{labels}</c> as written.</summary>
    public static Dictionary<string, double> Parse(string text)
    {
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = text[..^1].Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n];
            string where = $"line {n + 1}: {line}";
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var type = TypeLine().Match(line);
                Assert.True(type.Success, $"malformed TYPE, {where}");
                Assert.True(types.TryAdd(type.Groups["name"].Value, type.Groups["type"].Value), $"second TYPE for a family, {where}");
                continue;
            }

            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                var help = HelpLine().Match(line);
                Assert.True(help.Success, $"malformed HELP, {where}");
                Assert.False(types.ContainsKey(help.Groups["name"].Value), $"HELP after TYPE, {where}");
                continue;
            }

            if (line.StartsWith('#'))
            {
                continue;
            }

            var sample = SampleLine().Match(line);
            Assert.True(sample.Success, $"malformed sample, {where}");
            string name = sample.Groups["name"].Value;
            Assert.True(FamilyOf(name, types) is not null, $"sample without a TYPE line before it, {where}");
            Assert.True(samples.TryAdd(sample.Groups["series"].Value, ParseValue(sample.Groups["value"].Value)), $"duplicate series, {where}");
        }

        return samples;
    }

    /// <summary>The <c># TYPE</c> lines of <paramref name="text"/>: family name to type.</summary>
    public static Dictionary<string, string> Types(string text)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match match in TypeLine().Matches(text))
        {
            types[match.Groups["name"].Value] = match.Groups["type"].Value;
        }

        return types;
    }

    private static string? FamilyOf(string sampleName, Dictionary<string, string> types)
    {
        if (types.ContainsKey(sampleName))
        {
            return sampleName;
        }

        foreach (string suffix in (string[])["_bucket", "_sum", "_count"])
        {
            if (sampleName.EndsWith(suffix, StringComparison.Ordinal)
                && types.TryGetValue(sampleName[..^suffix.Length], out var type)
                && type == "histogram")
            {
                return sampleName[..^suffix.Length];
            }
        }

        return null;
    }

    private static double ParseValue(string value) => value switch
    {
        "NaN" => double.NaN,
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    [GeneratedRegex("""^# TYPE (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*) (?<type>counter|gauge|histogram|summary|untyped)$""", RegexOptions.Multiline)]
    private static partial Regex TypeLine();

    [GeneratedRegex("""^# HELP (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*) ([^\\\n]|\\\\|\\n)*$""")]
    private static partial Regex HelpLine();

    [GeneratedRegex("""^(?<series>(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(\\[\\"n]|[^"\\\n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\[\\"n]|[^"\\\n])*")*\})?) (?<value>-?[0-9.eE+-]+|NaN|[+-]Inf)$""")]
    private static partial Regex SampleLine();
}
