namespace Gatehouse.Testing.Postgres;

/// <summary>
/// Decides once per test run whether PostgreSQL tests can run here, and whether their absence
/// is a skip (a developer machine without the server) or a failure (CI, or
/// <c>GATEHOUSE_REQUIRE_POSTGRES=1</c>).
/// </summary>
public static class PostgresAvailability
{
    /// <summary>Environment variable naming the folder that holds <c>initdb</c>, <c>postgres</c> and <c>pg_ctl</c>.</summary>
    public const string BinDirectoryVariable = "GATEHOUSE_PG_BINDIR";

    /// <summary>Environment variable that, set to <c>1</c>, turns missing PostgreSQL into a test failure.</summary>
    public const string RequireVariable = "GATEHOUSE_REQUIRE_POSTGRES";

    /// <summary>Why PostgreSQL tests are skipped when the server binaries are missing.</summary>
    public const string SkipMessage =
        "PostgreSQL server binaries not found (install the postgresql package or run ./test.sh); " +
        "set GATEHOUSE_REQUIRE_POSTGRES=1 to make this a failure";

    private const string DebianInstallRoot = "/usr/lib/postgresql";

    private static readonly Lazy<string?> FoundBinDirectory = new(Probe);

    /// <summary>
    /// The folder holding the server binaries: <c>GATEHOUSE_PG_BINDIR</c> when set, otherwise
    /// the highest version under <c>/usr/lib/postgresql/*/bin</c>; null when neither has them.
    /// </summary>
    public static string? BinDirectory => FoundBinDirectory.Value;

    /// <summary>True when <c>GATEHOUSE_REQUIRE_POSTGRES=1</c>: missing PostgreSQL fails tests instead of skipping them.</summary>
    public static bool IsRequired => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>
    /// The skip reason for a PostgreSQL test, or null when it must run: the binaries are
    /// present, or PostgreSQL is required and its absence must show up as a failure.
    /// </summary>
    public static string? SkipReason => SkipReasonFor(BinDirectory, IsRequired);

    internal static string? SkipReasonFor(string? binDirectory, bool required) =>
        binDirectory is null && !required ? SkipMessage : null;

    private static string? Probe()
    {
        var configured = Environment.GetEnvironmentVariable(BinDirectoryVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            // An explicit setting that points nowhere is a mistake to report, not a cue to guess.
            return HasServerBinaries(configured) ? Path.GetFullPath(configured) : null;
        }

        if (!Directory.Exists(DebianInstallRoot))
        {
            return null;
        }

        return Directory.EnumerateDirectories(DebianInstallRoot)
            .Select(dir => (Dir: Path.Combine(dir, "bin"), Version: ParseVersion(Path.GetFileName(dir))))
            .Where(candidate => candidate.Version is not null && HasServerBinaries(candidate.Dir))
            .OrderByDescending(candidate => candidate.Version)
            .Select(candidate => candidate.Dir)
            .FirstOrDefault();
    }

    private static Version? ParseVersion(string name) =>
        int.TryParse(name, out var major) ? new Version(major, 0)
        : Version.TryParse(name, out var version) ? version
        : null;

    internal static bool HasServerBinaries(string dir) =>
        File.Exists(Path.Combine(dir, "postgres")) &&
        File.Exists(Path.Combine(dir, "initdb")) &&
        File.Exists(Path.Combine(dir, "pg_ctl"));
}
