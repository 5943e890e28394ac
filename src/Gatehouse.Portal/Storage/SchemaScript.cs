using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Storage;

/// <summary>
/// Prints the model's schema as SQL for one engine: the starting point of a migration script
/// (<c>gatehouse-portal schema-script sqlite|postgresql</c>). See docs/contributing.md.
/// </summary>
public static class SchemaScript
{
    /// <summary>The CREATE script for <paramref name="engine"/> (<c>sqlite</c> or <c>postgresql</c>).</summary>
    public static string Generate(string engine)
    {
        var storage = engine switch
        {
            "sqlite" => new StorageOptions { DataDirectory = Path.Combine(Path.GetTempPath(), "gatehouse-schema-script") },
            "postgresql" => new StorageOptions { PostgresConnectionString = "Host=localhost" },
            _ => throw new ArgumentException($"Unknown engine '{engine}'; use sqlite or postgresql.", nameof(engine)),
        };
        using var db = StorageServiceCollectionExtensions.OpenContext(storage);
        return db.Database.GenerateCreateScript();
    }
}
