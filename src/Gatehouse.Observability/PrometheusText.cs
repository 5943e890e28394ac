using System.Globalization;
using System.Text;

namespace Gatehouse.Observability;

/// <summary>The lexical rules of the Prometheus text exposition format, version 0.0.4.</summary>
internal static class PrometheusText
{
    /// <summary>
    /// Maps an instrument name to a metric name: every character outside <c>[a-zA-Z0-9_:]</c> (such as
    /// <c>.</c> and <c>-</c>) becomes <c>_</c>, and a leading digit gets a <c>_</c> in front.
    /// </summary>
    public static string SanitizeMetricName(string name) => Sanitize(name, allowColon: true);

    /// <summary>Maps a tag key to a label name: as for metric names, but colons are not allowed either.</summary>
    public static string SanitizeLabelName(string name) => Sanitize(name, allowColon: false);

    public static string FormatLabelValue(object? value) => value switch
    {
        null => string.Empty,
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>Escapes <c>\</c>, <c>"</c> and line feed, as label values require.</summary>
    public static void AppendEscapedLabelValue(StringBuilder text, string value)
    {
        foreach (char c in value)
        {
            _ = c switch
            {
                '\\' => text.Append(@"\\"),
                '"' => text.Append("\\\""),
                '\n' => text.Append(@"\n"),
                _ => text.Append(c),
            };
        }
    }

    /// <summary>Escapes <c>\</c> and line feed, as <c># HELP</c> text requires (quotes stay as they are).</summary>
    public static string EscapeHelp(string help)
    {
        if (help.AsSpan().IndexOfAny('\\', '\n') < 0)
        {
            return help;
        }

        return help.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("\n", @"\n", StringComparison.Ordinal);
    }

    public static void WriteValue(TextWriter writer, long value)
    {
        Span<char> buffer = stackalloc char[20];
        _ = value.TryFormat(buffer, out int written, default, CultureInfo.InvariantCulture);
        writer.Write(buffer[..written]);
    }

    public static void WriteValue(TextWriter writer, double value) => writer.Write(FormatDouble(value, stackalloc char[32]));

    public static string FormatDouble(double value) => FormatDouble(value, stackalloc char[32]).ToString();

    private static ReadOnlySpan<char> FormatDouble(double value, Span<char> buffer)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "+Inf" : "-Inf";
        }

        // The default format is the shortest text that round-trips, e.g. 0.005, 1, 1E-07.
        _ = value.TryFormat(buffer, out int written, default, CultureInfo.InvariantCulture);
        return buffer[..written];
    }

    private static string Sanitize(string name, bool allowColon)
    {
        if (name.Length == 0)
        {
            return "_";
        }

        bool needsLeadingUnderscore = char.IsAsciiDigit(name[0]);
        bool clean = !needsLeadingUnderscore;
        for (int i = 0; clean && i < name.Length; i++)
        {
            clean = IsNameChar(name[i], allowColon);
        }

        if (clean)
        {
            return name;
        }

        var text = new StringBuilder(name.Length + 1);
        if (needsLeadingUnderscore)
        {
            text.Append('_');
        }

        foreach (char c in name)
        {
            text.Append(IsNameChar(c, allowColon) ? c : '_');
        }

        return text.ToString();
    }

    private static bool IsNameChar(char c, bool allowColon) => char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':');
}
