using Gatehouse.Wire.Addresses;

namespace Gatehouse.Cli.Commands.Categories;

/// <summary>
/// A squidGuard/UT1-style blacklist folder: one subfolder per category, each with a
/// <c>domains</c> file of one domain a line. Blank lines, <c>#</c> comments and IP addresses are
/// skipped (the portal's categories hold domains; the IPs of these lists are stale hosting addresses).
/// </summary>
internal static class BlacklistFolder
{
    /// <summary>One category of the folder.</summary>
    public sealed record Category(string Name, string DomainsFile);

    /// <summary>The categories of <paramref name="folder"/> in name order, or only the named ones.</summary>
    public static IReadOnlyList<Category> Categories(string folder, IReadOnlyCollection<string> only)
    {
        if (!Directory.Exists(folder))
        {
            throw new CliException(ExitCodes.BadInput, $"no folder {folder}");
        }
        var all = Directory.EnumerateDirectories(folder)
            .Select(d => new Category(Path.GetFileName(d), Path.Combine(d, "domains")))
            .Where(c => File.Exists(c.DomainsFile))
            .OrderBy(c => c.Name, StringComparer.Ordinal)
            .ToList();
        if (only.Count == 0)
        {
            return all.Count > 0 ? all : throw new CliException(ExitCodes.BadInput, $"{folder} has no subfolder with a domains file");
        }
        var missing = only.Where(n => !all.Any(c => c.Name == n)).ToList();
        return missing.Count == 0
            ? [.. all.Where(c => only.Contains(c.Name))]
            : throw new CliException(ExitCodes.NotFound, $"no category folder with a domains file in {folder}: {string.Join(", ", missing)}");
    }

    /// <summary>The domains of one <c>domains</c> file, read lazily, lower-cased.</summary>
    public static IEnumerable<string> Domains(string domainsFile) => Lines(domainsFile).Select(l => l.Domain);

    /// <summary>
    /// Checks every domain of <paramref name="domainsFile"/> as the portal will, before any is sent: an import replaces
    /// a category's domains with its first chunk, so a refusal in a later one would leave the category half-replaced.
    /// </summary>
    /// <exception cref="CliException">A line is no domain name (exit 7), naming the file and line.</exception>
    public static void Check(string domainsFile)
    {
        foreach (var (number, domain) in Lines(domainsFile))
        {
            if (!DomainName.TryNormalise(domain, allowWildcard: true, out _))
            {
                throw new CliException(ExitCodes.BadInput, $"{domainsFile} line {number}: '{domain}' is not a domain name; nothing was imported");
            }
        }
    }

    // The lines that hold domains, with their line numbers (from 1).
    private static IEnumerable<(int Number, string Domain)> Lines(string domainsFile)
    {
        var number = 0;
        foreach (var raw in File.ReadLines(domainsFile))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#' || IsAddress(line))
            {
                continue;
            }
            yield return (number, line.ToLowerInvariant());
        }
    }

    // "10.1.2.3", "2001:db8::1" and "10.0.0.0/8" are addresses, read as strictly as everywhere else ("360" is not one).
    private static bool IsAddress(string line) => AddressLiteral.TryParseNetwork(line, out _);
}
