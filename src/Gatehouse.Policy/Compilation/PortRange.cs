using System.Globalization;

namespace Gatehouse.Policy.Compilation;

/// <summary>A port (<c>443</c>) or inclusive range (<c>8000-8080</c>), 1–65535.</summary>
internal static class PortRange
{
    public static bool TryParse(string? text, out int low, out int high)
    {
        low = high = 0;
        var value = (text ?? "").AsSpan().Trim();
        var dash = value.IndexOf('-');
        if (dash < 0)
        {
            if (!ushort.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port == 0)
            {
                return false;
            }

            low = high = port;
            return true;
        }

        if (!ushort.TryParse(value[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var from)
            || !ushort.TryParse(value[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var to)
            || from == 0 || from > to)
        {
            return false;
        }

        (low, high) = (from, to);
        return true;
    }

    public static string Reason(string? text) => $"'{text}' is not a port or port range (1-65535, for example 443 or 8000-8080)";
}
