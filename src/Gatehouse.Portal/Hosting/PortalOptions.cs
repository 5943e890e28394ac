namespace Gatehouse.Portal.Hosting;

/// <summary>
/// The portal's settings: the <c>Portal</c> section of configuration, environment variables
/// <c>GATEHOUSE_Portal__Listen</c> and so on, or the command-line flags <c>--listen</c>,
/// <c>--data-dir</c> and <c>--postgres</c>.
/// </summary>
public sealed class PortalOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Portal";

    /// <summary>Where the API and web UI listen (HTTPS only).</summary>
    public string Listen { get; set; } = "https://127.0.0.1:7443";

    /// <summary>Data directory (SQLite file, master key, TLS certificate).</summary>
    public string DataDirectory { get; set; } = Path.Combine(".gatehouse", "portal");

    /// <summary>PostgreSQL connection string; empty means SQLite in the data directory.</summary>
    public string? Postgres { get; set; }

    /// <summary>Where the data is, as the storage layer takes it.</summary>
    public Storage.StorageOptions Storage => new() { DataDirectory = DataDirectory, PostgresConnectionString = Postgres };

    /// <summary>The first owner's email, used when the portal starts with an empty database.</summary>
    public string OwnerEmail { get; set; } = "owner@gatehouse.local";

    /// <summary>The first owner's password; when empty, a one-time password is made and printed once.</summary>
    public string? OwnerPassword { get; set; }

    /// <summary>The name of the first tenant.</summary>
    public string FirstTenant { get; set; } = "default";

    /// <summary>The largest request body accepted, in bytes.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Transaction log records older than this many days are deleted (checked hourly);
    /// 0 keeps them for ever.
    /// </summary>
    public int LogRetentionDays { get; set; } = 30;

    /// <summary>How often running rollouts are evaluated, in seconds.</summary>
    public int RolloutEvaluationSeconds { get; set; } = 60;

    /// <summary>How long a device that installed a rollout's version may stay silent before it counts as failed, in seconds.</summary>
    public int RolloutSilenceSeconds { get; set; } = 900;

    /// <summary>
    /// Where each tenant's signed DR bundle is written (<c>TENANT.dr-bundle.json</c>) for a customer
    /// to copy to its DR edges; null: no files (DR edges in standby follow the bundle themselves).
    /// </summary>
    public string? DrExportDirectory { get; set; }

    /// <summary>How often the DR bundles are written to <see cref="DrExportDirectory"/>, in seconds: the most a copy can lag behind.</summary>
    public int DrExportSeconds { get; set; } = 300;
}
