using Gatehouse.Portal.Api;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Storage;
using Gatehouse.Trust.Secrets;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Tenants;

/// <summary>Tenants: operators create and list them; every admin reads their own.</summary>
internal static class TenantEndpoints
{
    public static RouteGroupBuilder MapTenants(this RouteGroupBuilder api)
    {
        var tenants = api.MapGroup("/tenants").WithTags("tenants").RequireAuthorization(AuthPolicies.Operator);
        tenants.MapGet("/", ListAsync);
        tenants.MapPost("/", CreateAsync);
        api.MapGet("/tenant", CurrentAsync).WithTags("tenants");
        return api;
    }

    private static async Task<Page<TenantDto>> ListAsync(PortalDbContext db, string? cursor, int? limit, CancellationToken ct) =>
        await db.Tenants.AsNoTracking().PageAsync(t => t.Id, cursor, limit, t => t.ToDto(), ct);

    private static async Task<IResult> CreateAsync(CreateTenantRequest request, TenantProvisioner provisioner, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var password = PasswordHasher.NewToken("otp");
        var (tenant, owner) = await provisioner.CreateAsync(request.Name, request.OwnerEmail, password, isOperator: false, mustChangePassword: true, ct);
        // Recorded in the operator's tenant (who created it) and in the new tenant (how it began).
        audit.Record("tenant.create", "tenant", tenant.Id, null, tenant.ToDto());
        audit.Record("tenant.create", "tenant", tenant.Id, null, tenant.ToDto(), tenant.Id);
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/tenants/{tenant.Id}", new CreateTenantResponse(tenant.ToDto(), owner.ToDto(), password));
    }

    private static async Task<TenantDetailsDto> CurrentAsync(Caller caller, PortalDbContext db, CancellationToken ct)
    {
        var tenant = await db.Tenants.AsNoTracking().SingleAsync(t => t.Id == caller.TenantId, ct);
        return new TenantDetailsDto(tenant.Id, tenant.Name, tenant.CreatedAt, tenant.CaCertificatePem, tenant.ConfigKeyPublicPem);
    }
}
