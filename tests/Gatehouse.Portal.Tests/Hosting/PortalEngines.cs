namespace Gatehouse.Portal.Tests.Hosting;

/// <summary>The database engines every engine-sensitive test runs against.</summary>
public static class PortalEngines
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgresql";

    /// <summary>
    /// The engine of portals that do not ask for one: <c>GATEHOUSE_PORTAL_TEST_ENGINE</c>, else SQLite. Any other value is
    /// refused: a misspelt engine (<c>postgres</c>) ran every test on SQLite and passed, having tested nothing it was asked to.
    /// </summary>
    public static string Default { get; } = Environment.GetEnvironmentVariable("GATEHOUSE_PORTAL_TEST_ENGINE") switch
    {
        null or "" or Sqlite => Sqlite,
        Postgres => Postgres,
        var other => throw new InvalidOperationException($"GATEHOUSE_PORTAL_TEST_ENGINE is '{other}': it must be {Sqlite} or {Postgres}."),
    };

    /// <summary>Starts a portal on the engine; PostgreSQL gets a fresh database on the shared test server.</summary>
    public static async Task<PortalServer> StartAsync(string engine) => engine switch
    {
        Sqlite => await PortalServer.StartOnSqliteAsync(),
        Postgres => await PortalServer.StartAsync(postgres: await SharedPostgres.CreateDatabaseAsync()),
        _ => throw new ArgumentOutOfRangeException(nameof(engine), engine, null),
    };
}
