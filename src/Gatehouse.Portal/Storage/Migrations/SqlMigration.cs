using Microsoft.EntityFrameworkCore.Migrations;

namespace Gatehouse.Portal.Storage.Migrations;

/// <summary>
/// A migration written as one SQL script per engine, embedded next to it as
/// <c>{Name}.sqlite.sql</c> and <c>{Name}.postgresql.sql</c>. EF Core records it in its history
/// table as usual; a test checks that the migrated schema equals the model's.
/// </summary>
public abstract class SqlMigration : Migration
{
    /// <summary>The script's base name, for example <c>0001_Initial</c>.</summary>
    protected abstract string ScriptName { get; }

    /// <inheritdoc />
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        var engine = migrationBuilder.ActiveProvider switch
        {
            "Microsoft.EntityFrameworkCore.Sqlite" => "sqlite",
            "Npgsql.EntityFrameworkCore.PostgreSQL" => "postgresql",
            var other => throw new NotSupportedException($"No migration script for the database provider '{other}'."),
        };
        migrationBuilder.Sql(ReadScript($"{ScriptName}.{engine}.sql"));
    }

    private static string ReadScript(string fileName)
    {
        var assembly = typeof(SqlMigration).Assembly;
        var resource = assembly.GetManifestResourceNames().SingleOrDefault(n => n.EndsWith("." + fileName, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"The migration script {fileName} is not embedded in {assembly.GetName().Name}.");
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
