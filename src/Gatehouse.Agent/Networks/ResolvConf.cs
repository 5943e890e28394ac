namespace Gatehouse.Agent.Networks;

/// <summary>What the system's resolver configuration says: its name servers and search domains.</summary>
/// <param name="Servers">The name servers, as written.</param>
/// <param name="SearchDomains">The search domains, without the final dot.</param>
internal sealed record ResolvConf(IReadOnlyList<string> Servers, IReadOnlyList<string> SearchDomains)
{
    /// <summary>Where systemd-resolved writes the servers it forwards to (its stub is on loopback).</summary>
    public const string SystemdResolvedUpstreams = "/run/systemd/resolve/resolv.conf";

    /// <summary>Reads <paramref name="path"/>; a missing or unreadable file has no servers and no domains.</summary>
    public static ResolvConf Read(string path)
    {
        var servers = new List<string>();
        var domains = new List<string>();
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                var fields = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 2 || fields[0].StartsWith('#'))
                {
                    continue;
                }

                switch (fields[0])
                {
                    case "nameserver":
                        servers.Add(fields[1]);
                        break;
                    case "search" or "domain":
                        domains.AddRange(fields.Skip(1).Select(d => d.TrimEnd('.')));
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No resolver configuration: no server or domain.
        }

        return new ResolvConf(servers, domains);
    }
}
