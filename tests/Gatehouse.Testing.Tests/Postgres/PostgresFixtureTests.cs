using Gatehouse.Testing.Postgres;

namespace Gatehouse.Testing.Tests.Postgres;

[Collection(PostgresFixture.CollectionName)]
public sealed class PostgresFixtureTests(PostgresFixture postgres)
{
    [PostgresFact]
    public async Task Fixture_gives_each_caller_its_own_database_on_one_server()
    {
        var first = await postgres.CreateDatabaseAsync().DefaultTimeout();
        var second = await postgres.CreateDatabaseAsync().DefaultTimeout();

        Assert.NotEqual(
            await PostgresServerTests.ScalarAsync<string>(first, "select current_database()"),
            await PostgresServerTests.ScalarAsync<string>(second, "select current_database()"));
        Assert.Equal(
            await PostgresServerTests.ScalarAsync<int>(first, "select inet_server_port()"),
            await PostgresServerTests.ScalarAsync<int>(second, "select inet_server_port()"));
    }

    [PostgresTheory]
    [InlineData("Upper")]
    [InlineData("semi;colon")]
    [InlineData("\"quoted\"")]
    public async Task Database_names_that_are_not_plain_identifiers_are_refused(string name)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => postgres.CreateDatabaseAsync(name));
    }

    [PostgresFact]
    public async Task Named_database_is_created_with_that_name()
    {
        var connectionString = await postgres.CreateDatabaseAsync("named_by_test").DefaultTimeout();

        Assert.Equal("named_by_test", await PostgresServerTests.ScalarAsync<string>(connectionString, "select current_database()"));
    }
}
