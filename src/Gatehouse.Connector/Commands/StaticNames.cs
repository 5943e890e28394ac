using System.Net;

namespace Gatehouse.Connector.Commands;

/// <summary>Names given on the command line (<c>--resolve NAME=ADDRESS</c>), answered before DNS is asked.</summary>
internal sealed class StaticNames
{
    private readonly Dictionary<string, IPAddress[]> _names;

    private StaticNames(Dictionary<string, IPAddress[]> names) => _names = names;

    public int Count => _names.Count;

    /// <exception cref="FormatException">An entry is not NAME=ADDRESS.</exception>
    public static StaticNames Parse(IEnumerable<string> entries)
    {
        var names = new Dictionary<string, List<IPAddress>>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in entries)
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || !IPAddress.TryParse(entry.AsSpan(equals + 1), out var address))
            {
                throw new FormatException($"--resolve takes NAME=ADDRESS, not \"{entry}\"");
            }

            var name = entry[..equals].Trim().TrimEnd('.');
            if (!names.TryGetValue(name, out var list))
            {
                names[name] = list = [];
            }

            list.Add(address);
        }

        return new StaticNames(names.ToDictionary(n => n.Key, n => n.Value.ToArray(), StringComparer.OrdinalIgnoreCase));
    }

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) =>
        _names.TryGetValue(host.TrimEnd('.'), out var addresses) ? Task.FromResult(addresses) : Dns.GetHostAddressesAsync(host, ct);
}
