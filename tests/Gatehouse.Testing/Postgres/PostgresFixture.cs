namespace Gatehouse.Testing.Postgres;

/// <summary>
/// One throwaway PostgreSQL server shared by every test of a collection; each test makes
/// its own database with <see cref="CreateDatabaseAsync"/>.
/// </summary>
/// <remarks>
/// xunit 2 finds collection definitions only in the test assembly itself, so each test
/// project declares the collection once:
/// <code>
/// [CollectionDefinition(PostgresFixture.CollectionName)]
/// public sealed class PostgresCollection : ICollectionFixture&lt;PostgresFixture&gt;;
/// </code>
/// and its test classes take part with <c>[Collection(PostgresFixture.CollectionName)]</c>
/// and a <see cref="PostgresFixture"/> constructor parameter.
/// </remarks>
public sealed class PostgresFixture : IAsyncLifetime
{
    /// <summary>The conventional name of the collection that shares this fixture.</summary>
    public const string CollectionName = "postgres";

    private PostgresServer? server;

    /// <summary>The running server.</summary>
    /// <exception cref="InvalidOperationException">No server binaries are installed; the tests should have been skipped.</exception>
    public PostgresServer Server => server ?? throw new InvalidOperationException(
        PostgresServer.UnavailableReason ?? "The PostgreSQL fixture has not been started.");

    /// <summary>Creates a uniquely named database on the shared server and returns its connection string.</summary>
    public Task<string> CreateDatabaseAsync(string? name = null) => Server.CreateDatabaseAsync(name);

    /// <inheritdoc />
    public async Task InitializeAsync() => server = await PostgresServer.StartAsync();

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
            server = null;
        }
    }
}
