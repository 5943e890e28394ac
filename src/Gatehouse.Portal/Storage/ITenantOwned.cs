namespace Gatehouse.Portal.Storage;

/// <summary>An entity that belongs to one tenant; the store filters and stamps it by tenant.</summary>
public interface ITenantOwned
{
    /// <summary>The owning tenant.</summary>
    Guid TenantId { get; set; }
}
