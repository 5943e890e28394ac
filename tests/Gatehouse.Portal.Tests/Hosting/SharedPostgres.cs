
namespace Gatehouse.Portal.Tests.Hosting;

/// <summary>One real PostgreSQL server for the whole test run; each test takes its own database.</summary>
public static class SharedPostgres
{
    private static readonly Lazy<Task<PostgresServer?>> Server = new(StartAsync);

    public static async Task<string> CreateDatabaseAsync()
    {
        var server = await Server.Value ?? throw new InvalidOperationException(PostgresServer.UnavailableReason);
        return await server.CreateDatabaseAsync();
    }

    private static async Task<PostgresServer?> StartAsync()
    {
        var server = await PostgresServer.StartAsync();
        if (server is not null)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        return server;
    }
}
