using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatehouse.Portal.Api;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Gatehouse.Portal.Policies;

/// <summary>
/// Converts between YAML and the JSON tree the API's serializer reads, so that a YAML policy is
/// held to exactly the same rules as a JSON one (camelCase names, unknown fields refused).
/// Plain scalars are typed as in the YAML 1.2 core schema; anchors and aliases are refused
/// (they let a small document expand without bound), and so is nesting deeper than a policy needs.
/// </summary>
public static partial class PolicyYaml
{
    private const int MaxDepth = 32;

    /// <summary>Parses one YAML document; syntax errors are a 400 on field <c>$</c> naming the line and column.</summary>
    public static JsonNode? ToJson(string yaml)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var parser = new Parser(new StringReader(yaml));
        var stack = new Stack<(JsonNode Node, string? Key)>();
        JsonNode? root = null;
        var documents = 0;
        try
        {
            while (parser.MoveNext())
            {
                var current = parser.Current!;
                switch (current)
                {
                    case DocumentStart when ++documents > 1:
                        throw Error(current.Start, "only one YAML document is allowed");
                    case AnchorAlias:
                        throw Error(current.Start, "aliases are not supported");
                    case Scalar scalar when stack.Count > 0 && stack.Peek() is { Node: JsonObject, Key: null }:
                        var frame = stack.Pop();
                        if (((JsonObject)frame.Node).ContainsKey(scalar.Value))
                        {
                            throw Error(current.Start, $"the key '{scalar.Value}' appears twice");
                        }

                        stack.Push((frame.Node, scalar.Value));
                        break;
                    case Scalar scalar:
                        Add(scalar.Style == ScalarStyle.Plain ? Typed(scalar.Value) : JsonValue.Create(scalar.Value), current);
                        break;
                    case MappingStart or SequenceStart:
                        if (stack.Count >= MaxDepth)
                        {
                            throw Error(current.Start, $"nesting deeper than {MaxDepth} levels is not supported");
                        }

                        JsonNode container = current is MappingStart ? new JsonObject() : new JsonArray();
                        Add(container, current);
                        stack.Push((container, null));
                        break;
                    case MappingEnd or SequenceEnd:
                        stack.Pop();
                        break;
                }
            }
        }
        catch (YamlException e)
        {
            var message = e.Message.LastIndexOf("): ", StringComparison.Ordinal) is var at and >= 0 ? e.Message[(at + 3)..] : e.Message;
            throw Error(e.Start, message.TrimEnd('.'));
        }

        return root;

        void Add(JsonNode? value, ParsingEvent at)
        {
            if (stack.Count == 0)
            {
                root = value;
                return;
            }

            var (parent, key) = stack.Pop();
            if (parent is JsonArray array)
            {
                array.Add(value);
                stack.Push((parent, null));
            }
            else if (key is null)
            {
                throw Error(at.Start, "mapping keys must be plain scalars");
            }
            else
            {
                ((JsonObject)parent)[key] = value;
                stack.Push((parent, null));
            }
        }
    }

    /// <summary>Writes a JSON tree as block-style YAML that <see cref="ToJson"/> reads back to the same tree.</summary>
    public static string FromJson(JsonNode? node)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        var emitter = new Emitter(writer);
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart());
        Write(emitter, node);
        emitter.Emit(new DocumentEnd(true));
        emitter.Emit(new StreamEnd());
        return writer.ToString();
    }

    private static void Write(Emitter emitter, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                emitter.Emit(new MappingStart(AnchorName.Empty, TagName.Empty, true, obj.Count == 0 ? MappingStyle.Flow : MappingStyle.Block));
                foreach (var (key, value) in obj)
                {
                    emitter.Emit(new Scalar(key));
                    Write(emitter, value);
                }

                emitter.Emit(new MappingEnd());
                break;
            case JsonArray array:
                emitter.Emit(new SequenceStart(AnchorName.Empty, TagName.Empty, true, array.Count == 0 ? SequenceStyle.Flow : SequenceStyle.Block));
                foreach (var item in array)
                {
                    Write(emitter, item);
                }

                emitter.Emit(new SequenceEnd());
                break;
            case JsonValue value when value.TryGetValue<string>(out var text):
                // A string that would read back as a number, boolean or null (a port "443") is quoted.
                var quote = Typed(text) is not JsonValue typed || !typed.TryGetValue<string>(out _) || text.Contains(':', StringComparison.Ordinal);
                emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, text, quote ? ScalarStyle.DoubleQuoted : ScalarStyle.Plain, true, true));
                break;
            case JsonValue value:
                emitter.Emit(new Scalar(value.ToJsonString()));
                break;
            default:
                emitter.Emit(new Scalar("null"));
                break;
        }
    }

    /// <summary>Types a plain scalar as the YAML 1.2 core schema does.</summary>
    private static JsonNode? Typed(string value)
    {
        switch (value)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }

        if (Integer().IsMatch(value) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        // A number past a double's range (1e400) would be infinity, which JSON cannot hold: it stays the text it is, which
        // the field's check then refuses by name, or reads as text where a string is due (as a port 443 is).
        if (Float().IsMatch(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
        {
            return JsonValue.Create(number);
        }

        return JsonValue.Create(value);
    }

    private static PortalException Error(Mark at, string message) =>
        PortalException.Invalid("$", $"The YAML is not valid at line {at.Line}, column {at.Column}: {message}.");

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex Integer();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex Float();
}
