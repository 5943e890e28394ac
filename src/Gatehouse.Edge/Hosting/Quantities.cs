using System.Globalization;

namespace Gatehouse.Edge.Hosting;

/// <summary>Sizes and durations as the edge's command line writes them: <c>64MiB</c>, <c>32KiB</c>, <c>500ms</c>, <c>10s</c>, <c>5m</c>, <c>2h</c>.</summary>
public static class Quantities
{
    private const long KiB = 1024;
    private const long MiB = 1024 * KiB;
    private const long GiB = 1024 * MiB;

    /// <summary>Parses a size: bytes, or a whole number with a binary unit (<c>KiB</c>/<c>K</c>, <c>MiB</c>/<c>M</c>, <c>GiB</c>/<c>G</c>, case ignored).</summary>
    /// <param name="text">The text.</param>
    /// <param name="bytes">The size in bytes.</param>
    /// <returns>Whether the text is a size.</returns>
    public static bool TryParseSize(string? text, out long bytes)
    {
        bytes = 0;
        if (!TrySplit(text, out var number, out var unit))
        {
            return false;
        }

        var scale = unit.ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "K" or "KIB" => KiB,
            "M" or "MIB" => MiB,
            "G" or "GIB" => GiB,
            _ => 0,
        };
        if (scale == 0 || number > long.MaxValue / scale)
        {
            return false;
        }

        bytes = number * scale;
        return true;
    }

    /// <summary>Parses a duration: a whole number with <c>ms</c>, <c>s</c>, <c>m</c>, <c>h</c> or <c>d</c> (case ignored).</summary>
    /// <param name="text">The text.</param>
    /// <param name="duration">The duration.</param>
    /// <returns>Whether the text is a duration.</returns>
    public static bool TryParseDuration(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (!TrySplit(text, out var number, out var unit) || number > 999_999_999)
        {
            return false;
        }

        TimeSpan? parsed = unit.ToLowerInvariant() switch
        {
            "ms" => TimeSpan.FromMilliseconds(number),
            "s" => TimeSpan.FromSeconds(number),
            "m" => TimeSpan.FromMinutes(number),
            "h" => TimeSpan.FromHours(number),
            "d" when number <= 999_999 => TimeSpan.FromDays(number),
            _ => null,
        };
        duration = parsed.GetValueOrDefault();
        return parsed is not null;
    }

    /// <summary>Writes a size in the largest binary unit that holds it whole: <c>32KiB</c>, <c>64MiB</c>, <c>1000</c> (bytes).</summary>
    /// <param name="bytes">The size.</param>
    public static string FormatSize(long bytes) => bytes switch
    {
        0 => "0",
        _ when bytes % GiB == 0 => $"{bytes / GiB}GiB",
        _ when bytes % MiB == 0 => $"{bytes / MiB}MiB",
        _ when bytes % KiB == 0 => $"{bytes / KiB}KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Writes a duration in the largest unit that holds it whole: <c>10s</c>, <c>5m</c>, <c>500ms</c>, <c>2h</c>.</summary>
    /// <param name="duration">The duration, whole milliseconds.</param>
    public static string FormatDuration(TimeSpan duration)
    {
        var ms = (long)duration.TotalMilliseconds;
        return ms switch
        {
            0 => "0s",
            _ when ms % 86_400_000 == 0 => $"{ms / 86_400_000}d",
            _ when ms % 3_600_000 == 0 => $"{ms / 3_600_000}h",
            _ when ms % 60_000 == 0 => $"{ms / 60_000}m",
            _ when ms % 1000 == 0 => $"{ms / 1000}s",
            _ => $"{ms}ms",
        };
    }

    /// <summary>Splits <c>123unit</c> (spaces around and between allowed) into its number and its unit.</summary>
    private static bool TrySplit(string? text, out long number, out string unit)
    {
        number = 0;
        unit = string.Empty;
        var span = text.AsSpan().Trim();
        var digits = 0;
        while (digits < span.Length && char.IsAsciiDigit(span[digits]))
        {
            digits++;
        }

        if (digits == 0 || !long.TryParse(span[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out number))
        {
            return false;
        }

        unit = span[digits..].Trim().ToString();
        return true;
    }
}
