using System.Text.Json;
using Gatehouse.Portal.Api;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Policy;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Gatehouse.Portal.Policies;

/// <summary>The caller's tenant's ordered policy: whole-document import and export, and single rules.</summary>
internal static class PolicyEndpoints
{
    public static RouteGroupBuilder MapPolicies(this RouteGroupBuilder api)
    {
        var policy = api.MapGroup("/policy").WithTags("policy");
        policy.MapGet("/", GetPolicyAsync);
        policy.MapPut("/", ImportAsync).RequireAuthorization(AuthPolicies.Write)
            .Accepts<PolicyDocument>("application/json", [.. PolicyDocumentReader.YamlMediaTypes])
            .WithMetadata(new BodySizeLimit(PolicyDocumentReader.MaxDocumentBytes));
        policy.MapGet("/export", ExportAsync);
        policy.MapPost("/rules", CreateRuleAsync).RequireAuthorization(AuthPolicies.Write);
        policy.MapGet("/rules/{id:guid}", GetRuleAsync);
        policy.MapPut("/rules/{id:guid}", UpdateRuleAsync).RequireAuthorization(AuthPolicies.Write);
        policy.MapDelete("/rules/{id:guid}", DeleteRuleAsync).RequireAuthorization(AuthPolicies.Write);
        return api;
    }

    private static async Task<List<PolicyRuleDto>> GetPolicyAsync(PortalDbContext db, CancellationToken ct) =>
        (await db.Set<PolicyRule>().AsNoTracking().OrderBy(r => r.Order).ToListAsync(ct)).ConvertAll(r => r.ToDto());

    /// <summary>
    /// Replaces every rule in one transaction. The body is read here rather than bound, so that
    /// YAML and JSON go through the same checks; nothing is written unless every rule is valid.
    /// </summary>
    private static async Task<List<PolicyRuleDto>> ImportAsync(
        HttpRequest request, IOptions<JsonOptions> json, Caller caller, PortalDbContext db, AuditLog audit, ConfigPublisher publisher, TimeProvider time, CancellationToken ct)
    {
        var document = await PolicyDocumentReader.ReadAsync(request, json.Value.SerializerOptions, ct);
        var specs = PolicyValidation.NormaliseDocument(document);
        await PolicyValidation.CheckReferencesAsync(db, specs, i => $"rules[{i}].", ct);

        var rules = new List<PolicyRule>(specs.Count);
        for (var i = 0; i < specs.Count; i++)
        {
            var rule = new PolicyRule { Id = Guid.CreateVersion7(time.GetUtcNow()), TenantId = caller.TenantId, Name = specs[i].Name, Action = specs[i].Action };
            Apply(rule, specs[i]);
            rule.Order = i;
            rules.Add(rule);
        }

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var before = await db.Set<PolicyRule>().OrderBy(r => r.Order).Select(r => r.Name).ToListAsync(ct);
        await db.Set<PolicyRule>().ExecuteDeleteAsync(ct);
        db.Set<PolicyRule>().AddRange(rules);
        audit.Record("policy.import", "policy", caller.TenantId, PolicyViews.Summary(before), PolicyViews.Summary(specs.ConvertAll(s => s.Name)));
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);

        // The bulk delete is not tracked: an import that empties the policy saves no row the publisher would see.
        publisher.Signal(caller.TenantId);
        return rules.ConvertAll(r => r.ToDto());
    }

    private static async Task<IResult> ExportAsync(string? format, IOptions<JsonOptions> json, PortalDbContext db, CancellationToken ct)
    {
        var rules = await db.Set<PolicyRule>().AsNoTracking().OrderBy(r => r.Order).ToListAsync(ct);
        var document = new PolicyDocument(rules.ConvertAll(r => r.ToSpec()));
        var options = PolicyDocumentReader.ExportOptions(json.Value.SerializerOptions);
        return (format ?? "yaml") switch
        {
            "yaml" => Results.Text(PolicyDocumentReader.ToYaml(document, json.Value.SerializerOptions), "application/yaml"),
            "json" => Results.Text(JsonSerializer.Serialize(document, options), "application/json"),
            _ => throw PortalException.Invalid("format", $"format must be yaml or json; got '{format}'."),
        };
    }

    private static async Task<PolicyRuleDto> GetRuleAsync(Guid id, PortalDbContext db, CancellationToken ct) =>
        (await FindRuleAsync(db, id, ct)).ToDto();

    private static async Task<PolicyRule> FindRuleAsync(PortalDbContext db, Guid id, CancellationToken ct) =>
        await db.Set<PolicyRule>().FirstOrDefaultAsync(r => r.Id == id, ct) ?? throw PortalException.NotFound("Policy rule");

    private static async Task<IResult> CreateRuleAsync(
        PolicyRuleSpec request, int? position, Caller caller, PortalDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var spec = PolicyValidation.Normalise(request, "");
        await PolicyValidation.CheckReferencesAsync(db, [spec], _ => "", ct);

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var count = await db.Set<PolicyRule>().CountAsync(ct);
        if (count >= PolicyValidation.MaxRules)
        {
            throw PortalException.Conflict($"The policy already holds the most rules allowed ({PolicyValidation.MaxRules}).");
        }

        if (position is { } p && (p < 0 || p > count))
        {
            throw PortalException.Invalid("position", $"position must be between 0 and {count}; got {p}.");
        }

        await EnsureNameFreeAsync(db, spec.Name, null, ct);
        var order = position ?? count;
        await db.Set<PolicyRule>().Where(r => r.Order >= order).ExecuteUpdateAsync(s => s.SetProperty(r => r.Order, r => r.Order + 1), ct);
        var rule = new PolicyRule { Id = Guid.CreateVersion7(time.GetUtcNow()), TenantId = caller.TenantId, Name = spec.Name, Action = spec.Action, Order = order };
        Apply(rule, spec);
        db.Set<PolicyRule>().Add(rule);
        audit.Record("policy.rule.create", "policy-rule", rule.Id, null, rule.ToDto());
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return Results.Created($"/api/v1/policy/rules/{rule.Id}", rule.ToDto());
    }

    private static async Task<PolicyRuleDto> UpdateRuleAsync(Guid id, PolicyRuleSpec request, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var rule = await FindRuleAsync(db, id, ct);
        var spec = PolicyValidation.Normalise(request, "");
        await PolicyValidation.CheckReferencesAsync(db, [spec], _ => "", ct);
        await EnsureNameFreeAsync(db, spec.Name, rule.Id, ct);
        var before = rule.ToDto();
        Apply(rule, spec);
        audit.Record("policy.rule.update", "policy-rule", rule.Id, before, rule.ToDto());
        await db.SaveChangesAsync(ct);
        return rule.ToDto();
    }

    private static async Task<IResult> DeleteRuleAsync(Guid id, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var rule = await FindRuleAsync(db, id, ct);
        db.Set<PolicyRule>().Remove(rule);
        audit.Record("policy.rule.delete", "policy-rule", rule.Id, rule.ToDto(), null);
        await db.SaveChangesAsync(ct);
        await db.Set<PolicyRule>().Where(r => r.Order > rule.Order).ExecuteUpdateAsync(s => s.SetProperty(r => r.Order, r => r.Order - 1), ct);
        await transaction.CommitAsync(ct);
        return Results.NoContent();
    }

    private static async Task EnsureNameFreeAsync(PortalDbContext db, string name, Guid? self, CancellationToken ct)
    {
        if (await db.Set<PolicyRule>().AnyAsync(r => r.Name == name && r.Id != self, ct))
        {
            throw PortalException.Conflict($"A policy rule named '{name}' already exists.", "name");
        }
    }

    private static void Apply(PolicyRule rule, PolicyRuleSpec spec)
    {
        rule.Name = spec.Name;
        rule.Action = spec.Action;
        rule.Enabled = spec.Enabled;
        rule.Description = spec.Description ?? "";
        rule.Criteria = spec.Criteria;
        rule.Inspect = spec.Inspect?.ToList() ?? [];
    }
}
