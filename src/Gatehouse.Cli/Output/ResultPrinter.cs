using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Cli.Connection;

namespace Gatehouse.Cli.Output;

/// <summary>
/// Prints results on stdout: the portal's JSON as received with <c>--json</c> (stable for
/// scripts), else a table or a few lines for people.
/// </summary>
internal sealed class ResultPrinter(CliEnvironment environment, bool json)
{
    private static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Whether <c>--json</c> was asked for.</summary>
    public bool Json { get; } = json;

    /// <summary>A listing: a JSON array of every item, or a table.</summary>
    public void List<T>(ApiResult<IReadOnlyList<T>> result, Func<Table> header, Action<Table, T> row)
    {
        if (Json)
        {
            WriteJson(result.Json);
            return;
        }
        var table = header();
        foreach (var item in result.Value)
        {
            row(table, item);
        }
        table.WriteTo(environment.Stdout, environment.UseColour);
    }

    /// <summary>One object: its JSON, or what <paramref name="describe"/> prints for people.</summary>
    public void One<T>(ApiResult<T> result, Action<TextWriter, T> describe)
    {
        if (Json)
        {
            WriteJson(result.Json);
            return;
        }
        describe(environment.Stdout, result.Value);
    }

    /// <summary>Writes JSON, indented, with a final newline.</summary>
    public void WriteJson(JsonNode? node) => environment.Stdout.WriteLine(node?.ToJsonString(Indented) ?? "null");

    /// <summary>Writes any value as JSON with the wire's naming.</summary>
    public void WriteJson<T>(T value) => environment.Stdout.WriteLine(JsonSerializer.Serialize(value, Indented));

    /// <summary>Writes <c>key: value</c> lines, keys aligned.</summary>
    public static void Fields(TextWriter writer, params (string Key, object? Value)[] fields)
    {
        var width = fields.Max(f => f.Key.Length) + 1;
        foreach (var (key, value) in fields)
        {
            writer.WriteLine($"{(key + ":").PadRight(width)} {Table.Cell(value)}");
        }
    }
}
