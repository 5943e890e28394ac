namespace Gatehouse.Portal.Storage;

/// <summary>Where the portal keeps its data.</summary>
public sealed class StorageOptions
{
    /// <summary>The data directory: SQLite file, master key, TLS certificate.</summary>
    public string DataDirectory { get; set; } = Path.Combine(Environment.CurrentDirectory, ".gatehouse", "portal");

    /// <summary>A PostgreSQL connection string; when set, PostgreSQL is used instead of SQLite.</summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>The SQLite database file inside the data directory.</summary>
    public string SqlitePath => Path.Combine(DataDirectory, "portal.db");

    /// <summary>The engine in use, for logs and health.</summary>
    public string Engine => string.IsNullOrWhiteSpace(PostgresConnectionString) ? "sqlite" : "postgresql";
}
