using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Gatehouse.Portal.Storage;

/// <summary>Registers the portal database on SQLite or PostgreSQL.</summary>
public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="PortalDbContext"/> and <see cref="TenantScope"/> for the engine the options name.
    /// Every <see cref="IInterceptor"/> registered as a service is attached to each context.
    /// </summary>
    public static IServiceCollection AddPortalStorage(this IServiceCollection services, StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(options);
        services.AddScoped<TenantScope>();
        services.AddDbContext<PortalDbContext>((provider, builder) =>
        {
            Configure(builder, options);
            builder.AddInterceptors(provider.GetServices<IInterceptor>());
        });
        return services;
    }

    /// <summary>The most connections one portal opens unless the connection string says otherwise.</summary>
    public const int DefaultMaxPoolSize = 32;

    /// <summary>
    /// Npgsql's default pool (100) equals PostgreSQL's default <c>max_connections</c>, so a busy portal
    /// would be refused connections ("too many clients"). A smaller pool makes requests wait for a
    /// connection instead; an operator's own <c>Maximum Pool Size</c> wins.
    /// </summary>
    public static string WithPoolDefaults(string connectionString)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("pool size", StringComparison.OrdinalIgnoreCase))
        {
            builder.MaxPoolSize = DefaultMaxPoolSize;
        }

        return builder.ConnectionString;
    }

    /// <summary>A context of its own on the database the options name, outside any host (tools, the backup, tests); no tenant in scope, no interceptors.</summary>
    public static PortalDbContext OpenContext(StorageOptions options)
    {
        var builder = new DbContextOptionsBuilder<PortalDbContext>();
        Configure(builder, options);
        return new PortalDbContext(builder.Options, new TenantScope());
    }

    /// <summary>Configures a context for the engine the options name (also used by tools and tests).</summary>
    public static void Configure(DbContextOptionsBuilder builder, StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Engine == "postgresql")
        {
            builder.UseNpgsql(WithPoolDefaults(options.PostgresConnectionString!));
        }
        else
        {
            Directory.CreateDirectory(options.DataDirectory);
            builder.UseSqlite($"Data Source={options.SqlitePath};Pooling=True;Default Timeout=30");
        }

        builder.ReplaceService<IModelCacheKeyFactory, ProviderModelCacheKeyFactory>();
        // Migrations are SQL scripts per engine (see Storage/Migrations), so there is no model snapshot to compare with.
        builder.ConfigureWarnings(w => w.Ignore(RelationalEventId.PendingModelChangesWarning));
    }
}
