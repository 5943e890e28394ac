using Gatehouse.Portal.Api;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Policies;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Categories;

/// <summary>URL categories of the caller's tenant and their domains.</summary>
internal static class CategoryEndpoints
{
    /// <summary>The most domains one call may add.</summary>
    public const int MaxDomainsPerCall = 10_000;

    /// <summary>Rows checked for existing domains per query, well under every engine's parameter limits.</summary>
    private const int Chunk = 1000;

    public static RouteGroupBuilder MapCategories(this RouteGroupBuilder api)
    {
        var categories = api.MapGroup("/categories").WithTags("categories");
        categories.MapGet("/", ListAsync);
        categories.MapGet("/{id:guid}", GetAsync);
        categories.MapPost("/", CreateAsync).RequireAuthorization(AuthPolicies.Write);
        categories.MapDelete("/{id:guid}", DeleteAsync).RequireAuthorization(AuthPolicies.Write);
        categories.MapPost("/{id:guid}/domains", AddDomainsAsync).RequireAuthorization(AuthPolicies.Write);
        categories.MapGet("/{id:guid}/domains", ListDomainsAsync);
        return api;
    }

    private static async Task<Page<UrlCategoryDto>> ListAsync(PortalDbContext db, string? cursor, int? limit, CancellationToken ct) =>
        await db.Set<UrlCategory>().AsNoTracking().PageAsync(c => c.Id, cursor, limit, c => c.ToDto(), ct);

    private static async Task<UrlCategoryDto> GetAsync(Guid id, PortalDbContext db, CancellationToken ct) =>
        (await FindAsync(db, id, ct)).ToDto();

    private static async Task<UrlCategory> FindAsync(PortalDbContext db, Guid id, CancellationToken ct) =>
        await db.Set<UrlCategory>().FirstOrDefaultAsync(c => c.Id == id, ct) ?? throw PortalException.NotFound("URL category");

    private static async Task<IResult> CreateAsync(CreateUrlCategoryRequest request, Caller caller, PortalDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var name = Validate.Name(request.Name, "name");
        var domains = Domains(request.Domains ?? []);
        if (await db.Set<UrlCategory>().AnyAsync(c => c.Name == name, ct))
        {
            throw PortalException.Conflict($"A URL category named '{name}' already exists.", "name");
        }

        var category = new UrlCategory
        {
            Id = Guid.CreateVersion7(time.GetUtcNow()),
            TenantId = caller.TenantId,
            Name = name,
            Description = Validate.Text(request.Description, "description"),
            Source = Validate.OneOf(request.Source ?? "custom", "source", UrlCategory.Sources),
            DomainCount = domains.Count,
            CreatedAt = time.GetUtcNow(),
        };
        db.Set<UrlCategory>().Add(category);
        db.Set<CategoryDomain>().AddRange(domains.Select(d => NewDomain(category, d, time)));
        audit.Record("category.create", "url-category", category.Id, null, category.ToDto());
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/categories/{category.Id}", category.ToDto());
    }

    /// <summary>
    /// Adds one chunk of domains (after emptying the category when asked). Existing domains are
    /// skipped with one lookup per <see cref="Chunk"/> and the rest inserted in one batch, so a
    /// full chunk costs a fraction of a second even on SQLite.
    /// </summary>
    private static async Task<CategoryDomainsResult> AddDomainsAsync(Guid id, AddCategoryDomainsRequest request, PortalDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var domains = Domains(request.Domains ?? throw PortalException.Invalid("domains", "domains must be a list."));
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var category = await FindAsync(db, id, ct);
        var before = category.ToDto();
        if (request.Replace)
        {
            await db.Set<CategoryDomain>().Where(d => d.CategoryId == id).ExecuteDeleteAsync(ct);
            category.DomainCount = 0;
        }
        else
        {
            var existing = new HashSet<string>(StringComparer.Ordinal);
            foreach (var chunk in domains.Chunk(Chunk))
            {
                existing.UnionWith(await db.Set<CategoryDomain>().Where(d => d.CategoryId == id && chunk.Contains(d.Domain)).Select(d => d.Domain).ToListAsync(ct));
            }

            domains.RemoveAll(existing.Contains);
        }

        db.ChangeTracker.AutoDetectChangesEnabled = false;
        db.Set<CategoryDomain>().AddRange(domains.Select(d => NewDomain(category, d, time)));
        category.DomainCount += domains.Count;
        db.ChangeTracker.DetectChanges();
        audit.Record(request.Replace ? "category.domains.replace" : "category.domains.add", "url-category", category.Id, before, new { category = category.ToDto(), added = domains.Count });
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return new CategoryDomainsResult(domains.Count, category.DomainCount);
    }

    private static async Task<Page<string>> ListDomainsAsync(Guid id, PortalDbContext db, string? cursor, int? limit, CancellationToken ct)
    {
        await FindAsync(db, id, ct);
        return await db.Set<CategoryDomain>().AsNoTracking().Where(d => d.CategoryId == id).PageAsync(d => d.Id, cursor, limit, d => d.Domain, ct);
    }

    private static async Task<IResult> DeleteAsync(Guid id, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var category = await FindAsync(db, id, ct);
        if (await PolicyValidation.FindRuleNamingAsync(db, c => c.Categories, category.Name, ct) is { } rule)
        {
            throw PortalException.Conflict($"The URL category '{category.Name}' is used by {rule}.");
        }

        db.Set<UrlCategory>().Remove(category);
        audit.Record("category.delete", "url-category", category.Id, category.ToDto(), null);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    /// <summary>Checks at most <see cref="MaxDomainsPerCall"/> exact domains; duplicates are dropped, order kept.</summary>
    private static List<string> Domains(IReadOnlyList<string> values)
    {
        if (values.Count > MaxDomainsPerCall)
        {
            throw PortalException.Invalid("domains", $"At most {MaxDomainsPerCall} domains may be sent in one call; send them in chunks.");
        }

        var seen = new HashSet<string>(values.Count, StringComparer.Ordinal);
        var result = new List<string>(values.Count);
        for (var i = 0; i < values.Count; i++)
        {
            var domain = Validate.Domain(values[i], $"domains[{i}]", allowWildcard: false);
            if (seen.Add(domain))
            {
                result.Add(domain);
            }
        }

        return result;
    }

    private static CategoryDomain NewDomain(UrlCategory category, string domain, TimeProvider time) =>
        new() { Id = Guid.CreateVersion7(time.GetUtcNow()), TenantId = category.TenantId, CategoryId = category.Id, Domain = domain };
}
