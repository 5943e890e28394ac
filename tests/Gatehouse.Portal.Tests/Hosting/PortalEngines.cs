namespace Gatehouse.Portal.Tests.Hosting;

/// <summary>The database engines every engine-sensitive test runs against.</summary>
public static class PortalEngines
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgresql";

    /// <summary>Starts a portal on the engine; PostgreSQL gets a fresh database on the shared test server.</summary>
    public static async Task<PortalServer> StartAsync(string engine) => engine switch
    {
        Sqlite => await PortalServer.StartAsync(),
        Postgres => await PortalServer.StartAsync(postgres: await SharedPostgres.CreateDatabaseAsync()),
        _ => throw new ArgumentOutOfRangeException(nameof(engine), engine, null),
    };
}
