using System.Net;
using Gatehouse.Content.Channels;

namespace Gatehouse.Agent.Updates;

/// <summary>Answers whether a destination is on the bypass list in force: such flows go direct, not through an edge.</summary>
internal sealed class BypassMatcher
{
    private readonly BypassList _list;

    /// <param name="list">The list.</param>
    /// <param name="version">The content version it came from.</param>
    public BypassMatcher(BypassList list, string version)
    {
        _list = list;
        Version = version;
    }

    /// <summary>The content version.</summary>
    public string Version { get; }

    /// <summary>The entry that covers <paramref name="host"/>:<paramref name="port"/>, or <see langword="null"/>.</summary>
    /// <param name="host">A name or an address literal.</param>
    /// <param name="port">The port.</param>
    /// <returns>The entry's note, or null.</returns>
    public string? Match(string host, int port)
    {
        var address = IPAddress.TryParse(host.Trim('[', ']'), out var parsed) ? parsed : null;
        foreach (var entry in _list.Entries)
        {
            if (entry.Ports.Count > 0 && !entry.Ports.Contains(port))
            {
                continue;
            }

            if (entry.Network is { } network ? address is not null && network.Contains(address) : Covers(entry.Domain!, host))
            {
                return entry.Note;
            }
        }

        return null;
    }

    private static bool Covers(string pattern, string host)
    {
        if (pattern.StartsWith("*.", StringComparison.Ordinal))
        {
            var suffix = pattern.AsSpan(1); // ".example.com"
            return host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) || host.AsSpan().Equals(suffix[1..], StringComparison.OrdinalIgnoreCase);
        }

        return string.Equals(pattern, host, StringComparison.OrdinalIgnoreCase);
    }
}
