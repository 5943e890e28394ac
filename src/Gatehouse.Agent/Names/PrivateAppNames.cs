namespace Gatehouse.Agent.Names;

/// <summary>
/// The host names of the tenant's private app segments, from the agent bundle: an exact name, or
/// <c>*.domain</c> for every name below the domain (not the domain itself), as the edge's policy reads them.
/// </summary>
internal sealed class PrivateAppNames
{
    private readonly HashSet<string> _exact;
    private readonly string[] _suffixes;

    public PrivateAppNames(IEnumerable<string> domains)
    {
        ArgumentNullException.ThrowIfNull(domains);
        var all = domains.Select(d => d.Trim().TrimEnd('.').ToLowerInvariant()).Where(d => d.Length > 0).ToList();
        _exact = new HashSet<string>(all.Where(d => !d.StartsWith("*.", StringComparison.Ordinal)), StringComparer.Ordinal);
        _suffixes = [.. all.Where(d => d.StartsWith("*.", StringComparison.Ordinal)).Select(d => d[1..])];
    }

    /// <summary>No private apps.</summary>
    public static PrivateAppNames None { get; } = new([]);

    /// <summary>Whether <paramref name="name"/> (lower-case, no final dot) is a private app's.</summary>
    public bool Contains(string name) =>
        _exact.Contains(name) || _suffixes.Any(s => name.EndsWith(s, StringComparison.Ordinal));
}
