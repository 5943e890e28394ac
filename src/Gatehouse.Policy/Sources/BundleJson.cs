using System.Text.Json.Nodes;

namespace Gatehouse.Policy.Sources;

/// <summary>Reading the parts of a bundle body that nodes keep beside a policy; every failure names its path.</summary>
public static class BundleJson
{
    /// <summary>The objects of a list (none when the key is missing).</summary>
    /// <param name="node">The list.</param>
    /// <param name="path">Its path, for errors.</param>
    public static IEnumerable<(JsonObject Item, string Path)> Items(JsonNode? node, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (node is null)
        {
            yield break;
        }

        if (node is not JsonArray array)
        {
            throw new PolicyFormatException(path, "must be a list.");
        }

        for (var i = 0; i < array.Count; i++)
        {
            yield return (array[i] as JsonObject ?? throw new PolicyFormatException($"{path}[{i}]", "must be an object."), $"{path}[{i}]");
        }
    }

    /// <summary>A string, or null when missing.</summary>
    /// <param name="node">The value.</param>
    /// <param name="path">Its path, for errors.</param>
    public static string? Text(JsonNode? node, string path) => node switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        _ => throw new PolicyFormatException(path, "must be a string."),
    };

    /// <summary>A string that must be there.</summary>
    /// <param name="node">The value.</param>
    /// <param name="path">Its path, for errors.</param>
    public static string Required(JsonNode? node, string path) => Text(node, path) ?? throw new PolicyFormatException(path, "is missing.");

    /// <summary>The strings of a list (empty when the key is missing).</summary>
    /// <param name="node">The list.</param>
    /// <param name="path">Its path, for errors.</param>
    public static List<string> Strings(JsonNode? node, string path)
    {
        var result = new List<string>();
        if (node is null)
        {
            return result;
        }

        if (node is not JsonArray array)
        {
            throw new PolicyFormatException(path, "must be a list.");
        }

        for (var i = 0; i < array.Count; i++)
        {
            result.Add(Required(array[i], $"{path}[{i}]"));
        }

        return result;
    }
}
