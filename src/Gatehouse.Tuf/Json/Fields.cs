using System.Globalization;
using System.Text.Json.Nodes;

namespace Gatehouse.Tuf.Json;

/// <summary>Reads the fields of metadata strictly; a missing or mistyped field names its place.</summary>
internal static class Fields
{
    public static JsonObject Object(JsonNode? node, string where) =>
        node as JsonObject ?? throw Malformed($"{where} must be an object");

    public static JsonObject Object(JsonObject parent, string name, string where) =>
        parent[name] as JsonObject ?? throw Malformed($"{where}.{name} must be an object");

    public static JsonObject? OptionalObject(JsonObject parent, string name, string where) => parent[name] switch
    {
        null when !parent.ContainsKey(name) => null,
        JsonObject obj => obj,
        _ => throw Malformed($"{where}.{name} must be an object"),
    };

    public static JsonArray Array(JsonObject parent, string name, string where) =>
        parent[name] as JsonArray ?? throw Malformed($"{where}.{name} must be an array");

    public static string String(JsonObject parent, string name, string where) =>
        parent[name] is JsonValue value && value.TryGetValue<string>(out var text)
            ? text
            : throw Malformed($"{where}.{name} must be a string");

    public static string String(JsonNode? node, string where) =>
        node is JsonValue value && value.TryGetValue<string>(out var text)
            ? text
            : throw Malformed($"{where} must be a string");

    public static long Integer(JsonObject parent, string name, string where) =>
        parent[name] is JsonValue value && value.TryGetValue<long>(out var number)
            ? number
            : throw Malformed($"{where}.{name} must be an integer");

    public static long? OptionalInteger(JsonObject parent, string name, string where) =>
        parent.ContainsKey(name) ? Integer(parent, name, where) : null;

    public static bool? OptionalBoolean(JsonObject parent, string name, string where) => parent.ContainsKey(name)
        ? parent[name] is JsonValue value && value.TryGetValue<bool>(out var flag) ? flag : throw Malformed($"{where}.{name} must be true or false")
        : null;

    public static IReadOnlyList<string> Strings(JsonObject parent, string name, string where)
    {
        var array = Array(parent, name, where);
        var list = new List<string>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            list.Add(String(array[i], $"{where}.{name}[{i}]"));
        }

        return list;
    }

    /// <summary>The one timestamp form the specification allows: <c>YYYY-MM-DDTHH:MM:SSZ</c>.</summary>
    public static DateTimeOffset Expiry(JsonObject parent, string where)
    {
        var text = String(parent, "expires", where);
        return DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var expires)
            ? expires
            : throw Malformed($"{where}.expires must look like 2030-01-01T00:00:00Z, not \"{text}\"");
    }

    public static string FormatExpiry(DateTimeOffset expires) =>
        expires.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static TufException Malformed(string message) => new(TufFailure.Malformed, message);
}
