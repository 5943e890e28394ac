using System.Text;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gatehouse.Portal.Api;
using Gatehouse.Wire.Policy;
using Microsoft.Net.Http.Headers;

namespace Gatehouse.Portal.Policies;

/// <summary>
/// Reads a <see cref="PolicyDocument"/> from a request body in JSON or YAML with the API's JSON
/// rules. A malformed body or unknown field surfaces as a <see cref="JsonException"/> (400 with
/// the field path), a body over the size limit as Kestrel's 413.
/// </summary>
public static class PolicyDocumentReader
{
    /// <summary>Media types read as YAML.</summary>
    public static readonly IReadOnlyList<string> YamlMediaTypes = ["application/yaml", "text/yaml", "application/x-yaml"];

    /// <summary>
    /// The largest policy document taken (8 MiB, as other bulk uploads): a policy stored from compact JSON under the
    /// 1 MiB every other body has exports as more YAML or indented JSON than that, and must import again.
    /// </summary>
    public const long MaxDocumentBytes = 8 * 1024 * 1024;

    /// <summary>Reads the body as the Content-Type says: YAML for the YAML types, JSON otherwise.</summary>
    public static async Task<PolicyDocument?> ReadAsync(HttpRequest request, JsonSerializerOptions json, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var mediaType = MediaTypeHeaderValue.TryParse(request.ContentType, out var parsed) ? parsed.MediaType.Value : null;
        if (mediaType is not null && YamlMediaTypes.Contains(mediaType, StringComparer.OrdinalIgnoreCase))
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            return FromYaml(await reader.ReadToEndAsync(ct), json);
        }

        if (mediaType is not null && !mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) && !mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase))
        {
            throw new BadHttpRequestException($"The body must be application/json or application/yaml, not {mediaType}.", StatusCodes.Status415UnsupportedMediaType);
        }

        return await JsonSerializer.DeserializeAsync<PolicyDocument>(request.Body, json, ct);
    }

    /// <summary>Reads a YAML policy document with the same rules as JSON.</summary>
    public static PolicyDocument? FromYaml(string yaml, JsonSerializerOptions json) => PolicyYaml.ToJson(yaml) is { } node
        ? node.Deserialize<PolicyDocument>(YamlOptions.GetValue(json, j => new JsonSerializerOptions(j) { Converters = { new ScalarAsStringConverter() } }))
        : throw PortalException.Invalid("$", "The YAML document is empty; it must hold a policy document with a rules list.");

    /// <summary>The API's options plus <see cref="ScalarAsStringConverter"/>, made once per options instance.</summary>
    private static readonly ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> YamlOptions = new();

    /// <summary>
    /// In YAML an unquoted <c>443</c> or <c>true</c> is a number or boolean; where the document
    /// expects a string (a port, a name) it is read as its text, as a YAML user means it.
    /// </summary>
    private sealed class ScalarAsStringConverter : JsonConverter<string>
    {
        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
            JsonTokenType.True => "true",
            JsonTokenType.False => "false",
            _ => throw new JsonException($"Expected a string, got {reader.TokenType}."),
        };

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
    }

    /// <summary>Writes a policy document as YAML, leaving out absent values.</summary>
    public static string ToYaml(PolicyDocument document, JsonSerializerOptions json) =>
        PolicyYaml.FromJson(JsonSerializer.SerializeToNode(document, ExportOptions(json)));

    /// <summary>The API's JSON options, leaving out absent values so that exports stay short.</summary>
    public static JsonSerializerOptions ExportOptions(JsonSerializerOptions json) =>
        ExportOptionsCache.GetValue(json, j => new JsonSerializerOptions(j) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true });

    private static readonly ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> ExportOptionsCache = new();
}
