using System.Globalization;

namespace Gatehouse.Bench.Edge;

/// <summary><c>--name value</c> pairs with clear errors for what is missing or malformed.</summary>
internal sealed class BenchArguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public BenchArguments(IEnumerable<string> args)
    {
        using var items = args.GetEnumerator();
        while (items.MoveNext())
        {
            var name = items.Current;
            if (!name.StartsWith("--", StringComparison.Ordinal) || !items.MoveNext())
            {
                throw new ArgumentException($"expected --NAME VALUE, got \"{name}\"");
            }

            _values[name[2..]] = items.Current;
        }
    }

    public string Text(string name) =>
        _values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required");

    public string? OptionalText(string name) => _values.GetValueOrDefault(name);

    public int Number(string name, int fallback) =>
        !_values.TryGetValue(name, out var value) ? fallback
        : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number
        : throw new ArgumentException($"--{name}: \"{value}\" is not a whole number");
}
