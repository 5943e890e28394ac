namespace Gatehouse.Portal.Storage;

/// <summary>Where the portal keeps its data.</summary>
public sealed class StorageOptions
{
    /// <summary>The data directory: SQLite file, master key, TLS certificate.</summary>
    public string DataDirectory { get; set; } = Path.Combine(Environment.CurrentDirectory, ".gatehouse", "portal");

    /// <summary>A PostgreSQL connection string; when set, PostgreSQL is used instead of SQLite.</summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>The SQLite database file inside the data directory (its write-ahead log and shared memory beside it, named after it).</summary>
    public string SqlitePath => Path.Combine(DataDirectory, "portal.db");

    /// <summary>The key that encrypts every tenant's CA and config-signing keys in the database.</summary>
    public string MasterKeyPath => Path.Combine(DataDirectory, "master.key");

    /// <summary>The engine in use, for logs and health.</summary>
    public string Engine => string.IsNullOrWhiteSpace(PostgresConnectionString) ? "sqlite" : "postgresql";
}
