using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Testing.Json;

/// <summary>One generated request body: what was done to the valid one, its bytes, and the content type it is sent with.</summary>
/// <param name="Mutation">What was changed, in words, such as <c>records[0].port = 1e400</c>.</param>
/// <param name="Body">The body's bytes.</param>
/// <param name="ContentType">The Content-Type header, or null to send none.</param>
public sealed record JsonMutant(string Mutation, byte[] Body, string? ContentType)
{
    /// <summary>The mutant as a failure message shows it: the change, the header and the start of the body.</summary>
    public override string ToString()
    {
        var text = Encoding.UTF8.GetString(Body);
        var preview = text.Length <= 600 ? text : $"{text[..600]}… ({Body.Length} bytes)";
        return $"{Mutation}; Content-Type: {ContentType ?? "(none)"}; body: {preview}";
    }
}

/// <summary>
/// Mutations of a valid JSON document (a request body of the portal's API, a config bundle's body), for fuzz tests: bytes flipped, a field removed, a
/// value swapped for one of another JSON type, very long strings, control and non-ASCII characters, duplicate keys,
/// deep nesting, truncation, odd whole bodies, stray tokens and the wrong content type. Each is drawn from the
/// <see cref="Random"/> given, so that a seed reproduces its inputs.
/// </summary>
public static class JsonMutations
{
    private const string Marker = "@@gatehouse-mutant@@";

    /// <summary>Non-ASCII characters travel as UTF-8, not <c>\u</c> escapes; control characters are escaped as JSON requires.</summary>
    private static readonly JsonSerializerOptions Writing = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>JSON values of every type, and strings an endpoint's checks care about.</summary>
    private static readonly string[] Values =
    [
        "\"\"", "\"x\"", "\" \"", "0", "-1", "1", "65535", "65536", "2147483647", "2147483648", "-2147483649",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "99999999999999999999999999999",
        "1e400", "-1e400", "1e-400", "1.5", "-0", "0.0", "1E3", "true", "false", "null", "{}", "{\"a\":1}", "[]", "[null]",
        "[1,\"x\",{}]", "\"\\ud800\"", "\"x\\udc00\"", "\"\\u0000\"", "\"\\u001b[2J\"",
        "\"2026-12-07T10:00:00Z\"", "\"2026-12-07T10:00:00+14:00\"", "\"0001-01-01T00:00:00Z\"", "\"9999-12-31T23:59:59.9999999Z\"",
        "\"9999-12-31T23:59:59-14:00\"", "\"2026-02-30T10:00:00Z\"", "\"00000000-0000-0000-0000-000000000000\"",
        "\"ffffffff-ffff-ffff-ffff-ffffffffffff\"", "\"{0c1b2f05-3d4e-4a5b-8c6d-7e8f9a0b1c2d}\"", "\"127.0.0.1\"", "\"::1\"", "\"[::1]\"",
        "\"fe80::1%eth0\"", "\"::ffff:10.0.0.1\"", "\"0.0.0.0/0\"", "\"::/0\"", "\"10.0.0.1/33\"", "\"1-65535\"", "\"65535-1\"",
        "\"*.example.com\"", "\"*\"", "\".\"", "\"a..b\"", "\"xn--\"", "\"WWW.Example.COM.\"", "\"user@EXAMPLE.test\"", "\"a@b\"",
        "\"@\"", "\"allow\"", "\"block\"", "\"caution\"", "\"denied\"", "\"edge\"", "\"connector\"", "\"flow\"", "\"http\"",
        "\"tunnel\"", "\"proxy\"", "\"08:00\"", "\"24:00\"", "\"Europe/Berlin\"", "\"../../etc/passwd\"", "\"Etc/GMT+99\"",
    ];

    /// <summary>Characters inserted into a string, as the text between its quotes (escapes included).</summary>
    private static readonly string[] Characters =
    [
        "\\u0000", "\\u0001", "\\u001b", "\\t", "\\n", "\\r", "\\u007f", "\\u0085", "\u00a0", "é", "İ", "\u212a", "ß",
        "\\u200b", "\\u202e", "\\ufeff", "\\uffff", "😀", "\\ud83d\\ude00", "\\ud800", "\\udfff", "\u0301", "%", "\\\\", "\\\"", "'",
        "..", "*", "@", ":", "/", "[", "]", " ", "xn--", "\\u2028", "\u00ad", "\u0000",
    ];

    /// <summary>Text spliced into the body at a random place.</summary>
    private static readonly string[] Tokens =
    [
        "\"", ",", ":", "{", "}", "[", "]", "\\", "\\u", "\\ud800", "null", "1e400", "-", "/*c*/", "//c\n", "\0", "\ufeff",
        " ", "\n", ",\"extra\":1", "NaN", "Infinity", "'", "\"\":\"\"",
    ];

    /// <summary>Content types an endpoint does not take, and odd spellings of the one it does.</summary>
    private static readonly string?[] ContentTypes =
    [
        null, "", "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
        "application/json; charset=utf-16", "application/json; charset=iso-8859-1", "application/json; charset=bogus",
        "application/json; charset=", "application/yaml", "text/yaml", "application/problem+json", "application/vnd.gatehouse+json",
        "application/json;", "json", "*/*", "application/json, text/plain", "application/json; charset=\"utf-8\"",
    ];

    /// <summary>Whole bodies that are not the object an endpoint takes.</summary>
    private static readonly string[] Bodies = ["", " ", "null", "[]", "{}", "0", "\"x\"", "true", "\ufeff{}", "{\"\":null}", "[{}]"];

    /// <summary>
    /// The <paramref name="index"/>th mutant of <paramref name="valid"/>: the index picks the kind of mutation (so that every
    /// kind is tried as often), <paramref name="random"/> everything else. <paramref name="contentTypes"/> are the types the
    /// endpoint takes, the usual one first; the others carry a quarter of the mutants.
    /// </summary>
    public static JsonMutant Generate(Random random, JsonNode valid, int index, IReadOnlyList<string> contentTypes)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(valid);
        ArgumentNullException.ThrowIfNull(contentTypes);
        var contentType = contentTypes.Count > 1 && random.Next(4) == 0 ? contentTypes[random.Next(1, contentTypes.Count)] : contentTypes[0];
        var (mutation, body) = (index % 12) switch
        {
            0 => FlipBytes(random, Write(valid)),
            1 => RemoveField(random, valid),
            2 => Replace(random, valid, 1, _ => Values[random.Next(Values.Length)]),
            3 => Replace(random, valid, 1, _ => LongString(random)),
            4 => Replace(random, valid, 1, value => WithCharacter(random, value)),
            5 => DuplicateKey(random, valid),
            6 => Replace(random, valid, 1, _ => Nested(random)),
            7 => Truncate(random, Write(valid)),
            8 => Text("whole body", Bodies[random.Next(Bodies.Length)]),
            9 => Splice(random, Write(valid)),
            // A mistake in one field can hide another's.
            10 => Replace(random, valid, 2, _ => Values[random.Next(Values.Length)]),
            _ => Text("valid body", Write(valid)),
        };
        if (index % 12 == 11)
        {
            contentType = ContentTypes[random.Next(ContentTypes.Length)];
        }

        return new JsonMutant(mutation, body, contentType);
    }

    private static string Write(JsonNode node) => node.ToJsonString(Writing);

    private static (string, byte[]) Text(string mutation, string body) => (mutation, Encoding.UTF8.GetBytes(body));

    private static (string, byte[]) FlipBytes(Random random, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var flipped = new List<string>();
        for (var n = random.Next(1, 8); n > 0; n--)
        {
            var at = random.Next(bytes.Length);
            bytes[at] = (byte)random.Next(256);
            flipped.Add(string.Create(CultureInfo.InvariantCulture, $"{at}=0x{bytes[at]:x2}"));
        }

        return ($"bytes flipped: {string.Join(' ', flipped)}", bytes);
    }

    /// <summary>Cut at a byte, which may be inside a character's UTF-8.</summary>
    private static (string, byte[]) Truncate(Random random, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var length = random.Next(bytes.Length);
        return (string.Create(CultureInfo.InvariantCulture, $"truncated to {length} bytes"), bytes[..length]);
    }

    private static (string, byte[]) Splice(Random random, string text)
    {
        var at = random.Next(text.Length + 1);
        var token = Tokens[random.Next(Tokens.Length)];
        return Text(string.Create(CultureInfo.InvariantCulture, $"'{Escape(token)}' spliced in at {at}"), text[..at] + token + text[at..]);
    }

    private static (string, byte[]) RemoveField(Random random, JsonNode valid)
    {
        var copy = valid.DeepClone();
        var fields = Slots(copy).Where(s => s.Parent is JsonObject).ToList();
        var field = fields[random.Next(fields.Count)];
        ((JsonObject)field.Parent!).Remove(field.Key!);
        return Text($"{field.Path} removed", Write(copy));
    }

    /// <summary>
    /// The values of <paramref name="count"/> slots replaced by the JSON text <paramref name="replacement"/> makes of each
    /// (from the value's own JSON). A slot inside one replaced before goes with it.
    /// </summary>
    private static (string, byte[]) Replace(Random random, JsonNode valid, int count, Func<string, string> replacement)
    {
        var copy = valid.DeepClone();
        var slots = Slots(copy);
        var changes = new List<(string Marker, string Raw)>();
        var said = new List<string>();
        for (var n = 0; n < count; n++)
        {
            var slot = slots[random.Next(slots.Count)];
            var raw = replacement(slot.Value is null ? "null" : Write(slot.Value));
            said.Add($"{slot.Path} = {Shorten(raw)}");
            if (slot.Parent is null)
            {
                return Text(string.Join(", then ", said), raw);
            }

            var marker = string.Create(CultureInfo.InvariantCulture, $"{Marker}{n}");
            slot.Set(JsonValue.Create(marker));
            changes.Add(($"\"{marker}\"", raw));
        }

        var text = Write(copy);
        foreach (var (marker, raw) in changes)
        {
            text = text.Replace(marker, raw, StringComparison.Ordinal);
        }

        return Text(string.Join(", then ", said), text);
    }

    private static (string, byte[]) DuplicateKey(Random random, JsonNode valid)
    {
        var copy = valid.DeepClone();
        var fields = Slots(copy).Where(s => s.Parent is JsonObject).ToList();
        var field = fields[random.Next(fields.Count)];
        var original = field.Value is null ? "null" : Write(field.Value);
        var second = random.Next(2) == 0 ? original : Values[random.Next(Values.Length)];
        field.Set(JsonValue.Create(Marker));
        var text = Write(copy).Replace($"\"{Marker}\"", $"{original},{JsonSerializer.Serialize(field.Key)}:{second}", StringComparison.Ordinal);
        return Text($"{field.Path} given twice, the second time as {Shorten(second)}", text);
    }

    private static string LongString(Random random)
    {
        int[] lengths = [300, 5_000, 70_000, 600_000];
        string[] fills = ["a", "é", "😀", "a.", "\\u0000"];
        var fill = fills[random.Next(fills.Length)];
        var length = lengths[random.Next(lengths.Length)];
        return $"\"{new StringBuilder(fill.Length * length).Insert(0, fill, length)}\"";
    }

    /// <summary>A value's string with a character inserted; a value that is no string becomes one.</summary>
    private static string WithCharacter(Random random, string json)
    {
        var text = json.StartsWith('"') ? json[1..^1] : "x";
        // Between characters and escapes, never inside an escape.
        var cuts = new List<int> { 0 };
        for (var i = 0; i < text.Length; cuts.Add(i))
        {
            i += text[i] != '\\' ? 1 : text[i + 1] == 'u' ? 6 : 2;
        }

        var at = cuts[random.Next(cuts.Count)];
        return $"\"{text[..at]}{Characters[random.Next(Characters.Length)]}{text[at..]}\"";
    }

    private static string Nested(Random random)
    {
        int[] depths = [2, 63, 64, 65, 200, 5_000, 100_000];
        var depth = depths[random.Next(depths.Length)];
        return random.Next(2) == 0
            ? new string('[', depth) + new string(']', depth)
            : new StringBuilder().Insert(0, "{\"a\":", depth).Append('1').Append('}', depth).ToString();
    }

    private static string Shorten(string raw) => raw.Length <= 80 ? Escape(raw) : $"{Escape(raw[..40])}… ({raw.Length} characters)";

    private static string Escape(string text) => JsonSerializer.Serialize(text)[1..^1];

    /// <summary>A place that holds a value: the root, an object's property or an array's element.</summary>
    private sealed record Slot(JsonNode? Parent, string? Key, int Index, string Path, JsonNode? Value)
    {
        /// <summary>Puts <paramref name="value"/> in this place of the tree it was found in (not the root).</summary>
        public void Set(JsonNode value)
        {
            if (Parent is JsonObject obj)
            {
                obj[Key!] = value;
            }
            else
            {
                ((JsonArray)Parent!)[Index] = value;
            }
        }
    }

    private static List<Slot> Slots(JsonNode root)
    {
        var slots = new List<Slot> { new(null, null, -1, "$", root) };
        Collect(root, "", slots);
        return slots;
    }

    private static void Collect(JsonNode? node, string path, List<Slot> slots)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    var field = path.Length == 0 ? key : $"{path}.{key}";
                    slots.Add(new Slot(obj, key, -1, field, value));
                    Collect(value, field, slots);
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    var element = string.Create(CultureInfo.InvariantCulture, $"{path}[{i}]");
                    slots.Add(new Slot(array, null, i, element, array[i]));
                    Collect(array[i], element, slots);
                }

                break;
        }
    }
}
