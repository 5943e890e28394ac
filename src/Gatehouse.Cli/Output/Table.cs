using System.Globalization;

namespace Gatehouse.Cli.Output;

/// <summary>
/// A plain table for people: a header row, then one row per item, columns padded to line up.
/// The header is bold only when stdout is a terminal that welcomes colour.
/// </summary>
internal sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    /// <summary>Adds a row; null cells print as <c>-</c>.</summary>
    public Table Row(params object?[] cells)
    {
        _rows.Add([.. cells.Select(Cell)]);
        return this;
    }

    /// <summary>Writes the table, two spaces between columns, no trailing spaces.</summary>
    public void WriteTo(TextWriter writer, bool colour)
    {
        var widths = new int[headers.Length];
        foreach (var row in _rows.Prepend(headers))
        {
            for (var i = 0; i < widths.Length && i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        var header = Line(headers, widths);
        writer.WriteLine(colour ? $"\u001b[1m{header}\u001b[0m" : header);
        foreach (var row in _rows)
        {
            writer.WriteLine(Line(row, widths));
        }
    }

    private static string Line(string[] cells, int[] widths) =>
        string.Join("  ", cells.Select((cell, i) => i == cells.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd();

    /// <summary>How one value prints in a cell: dates in UTC to the minute, lists comma-separated.</summary>
    public static string Cell(object? cell) => cell switch
    {
        null => "-",
        DateTimeOffset at => Times.ToTheMinute(at),
        bool flag => flag ? "yes" : "no",
        IEnumerable<string> list => string.Join(",", list) is { Length: > 0 } joined ? Printable(joined) : "-",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => cell.ToString() is { Length: > 0 } text ? Printable(text) : "-",
    };

    /// <summary>
    /// Line ends become spaces and other control or invisible formatting characters U+FFFD: text from the portal (a
    /// description, a user name in a log record) never moves the cursor, recolours or clears the terminal.
    /// </summary>
    public static string Printable(string text)
    {
        text = text.ReplaceLineEndings(" ");
        return text.Any(IsUnprintable) ? string.Concat(text.Select(c => IsUnprintable(c) ? '\uFFFD' : c)) : text;
    }

    private static bool IsUnprintable(char c) => char.IsControl(c) || char.GetUnicodeCategory(c) == UnicodeCategory.Format;
}
