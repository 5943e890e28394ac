using Gatehouse.Testing.Postgres;

namespace Gatehouse.Testing.Tests.Postgres;

[CollectionDefinition(PostgresFixture.CollectionName)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;
