namespace Gatehouse.Portal.Storage;

/// <summary>
/// The tenant the current request acts in. The store shows and accepts only that tenant's rows;
/// with no tenant set it shows none (fail closed). Code that must look across tenants
/// (authentication, config publishing) says so with <c>IgnoreQueryFilters()</c>.
/// </summary>
public sealed class TenantScope
{
    /// <summary>The tenant of the authenticated caller, if any.</summary>
    public Guid? TenantId { get; private set; }

    /// <summary>Sets the tenant once per request; a second, different tenant is a bug.</summary>
    public void Enter(Guid tenantId)
    {
        if (TenantId is { } current && current != tenantId)
        {
            throw new InvalidOperationException("The tenant scope of a request cannot change.");
        }

        TenantId = tenantId;
    }
}
