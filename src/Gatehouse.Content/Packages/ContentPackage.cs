using System.Text.Json;

namespace Gatehouse.Content.Packages;

/// <summary>
/// A content file as pushed to agents: a header that says what it is and which fields each record
/// has, then the records, each an array with exactly one value per field.
/// <code>
///   {"channel": "bypass", "schemaVersion": 1, "version": "2026.12.04.1",
///    "fields": ["kind", "value", "ports", "note"],
///    "records": [["domain", "*.office365.com", "443", "Microsoft 365"], ...]}
/// </code>
/// The header is declared, not inferred: a loader compares it with what it was built for before
/// it reads a single record (the July 2024 outage was a file with 21 fields read by code that
/// supplied 20).
/// </summary>
/// <param name="Channel">The content channel.</param>
/// <param name="SchemaVersion">The version of the channel's record schema.</param>
/// <param name="Version">The content's own version.</param>
/// <param name="Fields">The field names, in record order.</param>
/// <param name="Records">The records.</param>
public sealed record ContentPackage(string Channel, int SchemaVersion, string Version, IReadOnlyList<string> Fields, IReadOnlyList<IReadOnlyList<string>> Records)
{
    /// <summary>The most a content file may hold, in bytes.</summary>
    public const int MaxBytes = 32 * 1024 * 1024;

    /// <summary>Reads a content file's header and records, strictly; nothing is interpreted yet.</summary>
    /// <param name="utf8">The file.</param>
    /// <returns>The package.</returns>
    /// <exception cref="ContentException">It is not a content file.</exception>
    public static ContentPackage Parse(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxBytes)
        {
            throw new ContentException($"content is {utf8.Length} bytes; the most is {MaxBytes}");
        }

        if (utf8.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            // Refused, not skipped: agents in the field read the bytes as they are signed.
            throw new ContentException("content starts with a UTF-8 byte order mark; save the file as UTF-8 without one");
        }

        using var document = Document(utf8);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ContentException($"content must be a JSON object with {HeaderFields}; it is {Describe(root)}");
        }

        foreach (var property in root.EnumerateObject())
        {
            if (!Header.Contains(property.Name))
            {
                throw new ContentException($"content has an unknown header field \"{property.Name}\"; the header is {HeaderFields}", property.Name);
            }
        }

        var channel = Text(root, "channel");
        var schema = root.TryGetProperty("schemaVersion", out var s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt32(out var sv) && sv > 0
            ? sv
            : throw Wrong(root, "schemaVersion", "a positive integer");
        var version = Text(root, "version");
        var fields = Strings(Array(root, "fields"), "fields");
        var records = new List<IReadOnlyList<string>>();
        var index = 0;
        foreach (var record in Array(root, "records").EnumerateArray())
        {
            if (record.ValueKind != JsonValueKind.Array)
            {
                throw new ContentException($"records[{index}] must be an array of {fields.Count} strings; it is {Describe(record)}", $"records[{index}]");
            }

            records.Add(Strings(record, $"records[{index}]"));
            index++;
        }

        return new ContentPackage(channel, schema, version, fields, records);
    }

    private static readonly string[] Header = ["channel", "schemaVersion", "version", "fields", "records"];

    /// <summary>The header's fields, for messages: <c>channel, schemaVersion, version, fields and records</c>.</summary>
    internal static readonly string HeaderFields = $"{string.Join(", ", Header[..^1])} and {Header[^1]}";

    private static readonly JsonDocumentOptions Strict = new() { AllowTrailingCommas = false, AllowDuplicateProperties = false, CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 8 };

    /// <summary>
    /// The file as a document, read once. A refusal is read again by <see cref="JsonSyntax"/>, with the same options, to
    /// say where it is by line and column (JsonDocument names no place for a repeated property); what only JsonDocument
    /// refuses is said in its words.
    /// </summary>
    private static JsonDocument Document(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return JsonDocument.Parse(utf8.ToArray(), Strict);
        }
        catch (JsonException e)
        {
            JsonSyntax.Check(utf8, new JsonReaderOptions { AllowTrailingCommas = Strict.AllowTrailingCommas, CommentHandling = Strict.CommentHandling, MaxDepth = Strict.MaxDepth });
            throw new ContentException($"content is not valid JSON: {JsonSyntax.Reason(e)}", inner: e);
        }
    }

    private static string Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw Wrong(root, name, "a non-empty string");

    private static JsonElement Array(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value
            : throw Wrong(root, name, "an array");

    private static List<string> Strings(JsonElement array, string where)
    {
        var list = new List<string>(array.GetArrayLength());
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            list.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw new ContentException($"{where}[{i}] must be a string; it is {Describe(item)}", $"{where}[{i}]"));
            i++;
        }

        return list;
    }

    /// <summary>A header field that is missing or of the wrong kind, saying which.</summary>
    private static ContentException Wrong(JsonElement root, string name, string expected) =>
        new(root.TryGetProperty(name, out var value) ? $"{name} must be {expected}; it is {Describe(value)}" : $"{name} is missing; it must be {expected}", name);

    /// <summary>What a JSON value is, in words, with short values quoted: <c>the number 443</c>, <c>an object</c>.</summary>
    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!.Length <= 40 ? $"the string \"{value.GetString()}\"" : "a string",
        JsonValueKind.Number => value.GetRawText().Length <= 40 ? $"the number {value.GetRawText()}" : "a number",
        JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        _ => "an object",
    };
}
