using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Policies;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Policy;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Gatehouse.Portal.AccessPolicies;

/// <summary>
/// The caller's tenant's access policy for private apps, read and replaced as a whole document (JSON or
/// YAML, as the internet policy is). A flow to an app segment that no rule allows is refused.
/// </summary>
internal static class AccessPolicyEndpoints
{
    public static RouteGroupBuilder MapAccessPolicy(this RouteGroupBuilder api)
    {
        var access = api.MapGroup("/access-policy").WithTags("access-policy");
        access.MapGet("/", GetAsync);
        access.MapPut("/", ImportAsync).RequireAuthorization(AuthPolicies.Write)
            .Accepts<PolicyDocument>("application/json", [.. PolicyDocumentReader.YamlMediaTypes])
            .WithMetadata(new Api.BodySizeLimit(PolicyDocumentReader.MaxDocumentBytes));
        return api;
    }

    private static async Task<List<PolicyRuleDto>> GetAsync(PortalDbContext db, CancellationToken ct) =>
        (await db.Set<AccessRule>().AsNoTracking().OrderBy(r => r.Order).ToListAsync(ct)).ConvertAll(ToDto);

    private static async Task<List<PolicyRuleDto>> ImportAsync(
        HttpRequest request, IOptions<JsonOptions> json, Caller caller, PortalDbContext db, AuditLog audit, ConfigPublisher publisher, TimeProvider time, CancellationToken ct)
    {
        var document = await PolicyDocumentReader.ReadAsync(request, json.Value.SerializerOptions, ct);
        var specs = PolicyValidation.NormaliseAccessDocument(document);
        await PolicyValidation.CheckReferencesAsync(db, specs, i => $"rules[{i}].", ct);

        var rules = specs.Select((spec, i) => new AccessRule
        {
            Id = Guid.CreateVersion7(time.GetUtcNow()),
            TenantId = caller.TenantId,
            Order = i,
            Name = spec.Name,
            Action = spec.Action,
            Enabled = spec.Enabled,
            Description = spec.Description ?? "",
            Criteria = spec.Criteria,
        }).ToList();

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var before = await db.Set<AccessRule>().OrderBy(r => r.Order).Select(r => r.Name).ToListAsync(ct);
        await db.Set<AccessRule>().ExecuteDeleteAsync(ct);
        db.Set<AccessRule>().AddRange(rules);
        audit.Record("access-policy.import", "access-policy", caller.TenantId, PolicyViews.Summary(before), PolicyViews.Summary(specs.ConvertAll(s => s.Name)));
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);

        // The bulk delete is not tracked: an import that empties the policy saves no row the publisher would see.
        publisher.Signal(caller.TenantId);
        return rules.ConvertAll(ToDto);
    }

    private static PolicyRuleDto ToDto(AccessRule r) => new(r.Id, r.Order, new PolicyRuleSpec
    {
        Name = r.Name,
        Action = r.Action,
        Enabled = r.Enabled,
        Description = r.Description.Length == 0 ? null : r.Description,
        Criteria = r.Criteria,
    });
}
