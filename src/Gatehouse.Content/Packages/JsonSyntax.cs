using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Gatehouse.Content.Packages;

/// <summary>
/// Checks that a content file is one JSON value and that no object in it names a property twice, and says where it is
/// not: by line and column, as an editor shows them. JsonDocument refuses a repeated property without saying where, and
/// System.Text.Json's own messages end in zero-based "LineNumber: 0 | BytePositionInLine: 1." Run on a file JsonDocument
/// refused, to word the refusal; a file it reads needs no second pass.
/// </summary>
internal static partial class JsonSyntax
{
    /// <summary>Reads every token of <paramref name="utf8"/> once.</summary>
    /// <param name="utf8">The file.</param>
    /// <param name="options">How strictly to read, as the document will be read.</param>
    /// <exception cref="ContentException">It is not JSON, or an object repeats a property.</exception>
    public static void Check(ReadOnlySpan<byte> utf8, JsonReaderOptions options)
    {
        if (utf8.Trim(" \t\r\n"u8).IsEmpty)
        {
            throw new ContentException($"content is empty; a content file is one JSON object with {ContentPackage.HeaderFields}");
        }

        var reader = new Utf8JsonReader(utf8, options);
        var objects = new Stack<Dictionary<string, long>>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        objects.Push(new Dictionary<string, long>(StringComparer.Ordinal));
                        break;
                    case JsonTokenType.EndObject:
                        objects.Pop();
                        break;
                    case JsonTokenType.PropertyName:
                        var name = reader.GetString()!;
                        if (!objects.Peek().TryAdd(name, reader.TokenStartIndex))
                        {
                            // A reviewer reads the first one; a reader that takes the last would load the other.
                            throw new ContentException(
                                $"content gives \"{name}\" twice in one object, at {At(utf8, objects.Peek()[name])} and at {At(utf8, reader.TokenStartIndex)}; give each property once",
                                objects.Count == 1 ? name : null);
                        }

                        break;
                }
            }
        }
        catch (JsonException e) when (e.LineNumber is { } line && e.BytePositionInLine is { } position)
        {
            throw new ContentException($"content is not valid JSON at line {line + 1}, column {Column(utf8, line, position)}: {Reason(e)}", inner: e);
        }
    }

    /// <summary>System.Text.Json's message without the zero-based position it appends.</summary>
    public static string Reason(JsonException e) => Position().Replace(e.Message, "").TrimEnd();

    /// <summary>"line L, column C" of a byte offset, both counted from 1, the column in characters.</summary>
    private static string At(ReadOnlySpan<byte> utf8, long offset)
    {
        var before = utf8[..(int)offset];
        var line = before.Count((byte)'\n');
        var lineStart = before.LastIndexOf((byte)'\n') + 1;
        return $"line {line + 1}, column {Encoding.UTF8.GetCharCount(before[lineStart..]) + 1}";
    }

    /// <summary>The column, counted in characters from 1, of a zero-based byte position on a zero-based line.</summary>
    private static long Column(ReadOnlySpan<byte> utf8, long line, long position)
    {
        var lineStart = 0;
        for (var i = 0L; i < line; i++)
        {
            lineStart += utf8[lineStart..].IndexOf((byte)'\n') + 1;
        }

        var rest = utf8[lineStart..];
        return Encoding.UTF8.GetCharCount(rest[..(int)Math.Min(position, rest.Length)]) + 1;
    }

    [GeneratedRegex(@"\s*(Path: \S*)?\s*\|?\s*LineNumber: \d+ \| BytePositionInLine: \d+\.$")]
    private static partial Regex Position();
}
