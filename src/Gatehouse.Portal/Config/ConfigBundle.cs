namespace Gatehouse.Portal.Config;

/// <summary>
/// The latest signed config bundle of one tenant for one consumer. Only the latest is kept:
/// consumers never fetch an older version, and the audit log records the changes behind it.
/// </summary>
public sealed class ConfigBundle : Storage.ITenantOwned
{
    /// <summary>Stable id.</summary>
    public Guid Id { get; set; }

    /// <summary>The tenant.</summary>
    public Guid TenantId { get; set; }

    /// <summary>One of <see cref="Wire.Config.BundleConsumers"/>.</summary>
    public required string Consumer { get; set; }

    /// <summary>The bundle version; increases by one with every change of the body.</summary>
    public long Version { get; set; }

    /// <summary>The signed document (canonical JSON) as served.</summary>
    public required byte[] Document { get; set; }

    /// <summary>Lowercase hex SHA-256 of the canonical body, to tell whether a rebuild changed anything.</summary>
    public required string BodySha256 { get; set; }

    /// <summary>When this version was published.</summary>
    public DateTimeOffset CreatedAt { get; set; }
}
