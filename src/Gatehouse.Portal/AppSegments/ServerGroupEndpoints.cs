using Gatehouse.Portal.Api;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.AppSegments;

/// <summary>Server groups of the caller's tenant: the app servers behind segments and how connectors check them.</summary>
internal static class ServerGroupEndpoints
{
    /// <summary>The most servers one group may list.</summary>
    public const int MaxServers = 1000;

    /// <summary>Maps the routes; <paramref name="usedBy"/> names a segment that still refers to a group, which then cannot be deleted.</summary>
    public static void Map(RouteGroupBuilder api, Func<PortalDbContext, Guid, CancellationToken, Task<string?>> usedBy)
    {
        var routes = api.MapGroup("/server-groups").WithTags("server-groups");
        routes.MapGet("/", async (PortalDbContext db, string? cursor, int? limit, CancellationToken ct) =>
            await db.Set<ServerGroup>().AsNoTracking().PageAsync(g => g.Id, cursor, limit, g => g.ToDto(), ct));
        routes.MapGet("/{id:guid}", async (Guid id, PortalDbContext db, CancellationToken ct) => (await FindAsync(db, id, ct)).ToDto());
        routes.MapPost("/", CreateAsync).RequireAuthorization(AuthPolicies.Write);
        routes.MapPut("/{id:guid}", UpdateAsync).RequireAuthorization(AuthPolicies.Write);
        routes.MapDelete("/{id:guid}", async (Guid id, PortalDbContext db, AuditLog audit, CancellationToken ct) =>
        {
            var group = await FindAsync(db, id, ct);
            if (await usedBy(db, id, ct) is { } segment)
            {
                throw PortalException.Conflict($"The server group '{group.Name}' is used by the app segment '{segment}'.");
            }

            db.Set<ServerGroup>().Remove(group);
            audit.Record("server-group.delete", "server-group", group.Id, group.ToDto(), null);
            await db.SaveChangesAsync(ct);
            return Results.NoContent();
        }).RequireAuthorization(AuthPolicies.Write);
    }

    private static async Task<ServerGroup> FindAsync(PortalDbContext db, Guid id, CancellationToken ct) =>
        await db.Set<ServerGroup>().FirstOrDefaultAsync(g => g.Id == id, ct) ?? throw PortalException.NotFound("Server group");

    private static async Task<IResult> CreateAsync(ServerGroupRequest request, Caller caller, PortalDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var group = new ServerGroup { Id = Guid.CreateVersion7(time.GetUtcNow()), TenantId = caller.TenantId, Name = "", CreatedAt = time.GetUtcNow() };
        await ApplyAsync(db, group, request, ct);
        db.Set<ServerGroup>().Add(group);
        audit.Record("server-group.create", "server-group", group.Id, null, group.ToDto());
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/server-groups/{group.Id}", group.ToDto());
    }

    private static async Task<ServerGroupDto> UpdateAsync(Guid id, ServerGroupRequest request, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var group = await FindAsync(db, id, ct);
        var before = group.ToDto();
        await ApplyAsync(db, group, request, ct);
        audit.Record("server-group.update", "server-group", group.Id, before, group.ToDto());
        await db.SaveChangesAsync(ct);
        return group.ToDto();
    }

    private static async Task ApplyAsync(PortalDbContext db, ServerGroup group, ServerGroupRequest request, CancellationToken ct)
    {
        var name = Validate.Name(request.Name, "name");
        if (name != group.Name && await db.Set<ServerGroup>().AnyAsync(g => g.Name == name && g.Id != group.Id, ct))
        {
            throw PortalException.Conflict($"A server group named '{name}' already exists.", "name");
        }

        var servers = new List<string>();
        var requested = request.Servers ?? [];
        if (requested.Count is 0 or > MaxServers)
        {
            throw PortalException.Invalid("servers", $"A server group lists 1 to {MaxServers} servers; this one has {requested.Count}.");
        }

        for (var i = 0; i < requested.Count; i++)
        {
            var server = Server(requested[i], $"servers[{i}]");
            if (!servers.Contains(server, StringComparer.Ordinal))
            {
                servers.Add(server);
            }
        }

        var check = request.HealthCheck is null ? HealthCheckKinds.Tcp : Validate.OneOf(request.HealthCheck, "healthCheck", HealthCheckKinds.All);
        var path = request.HealthPath?.Trim() ?? "/";
        if (!path.StartsWith('/') || path.Length > 1000 || path.Any(c => c <= ' ' || c == 0x7f))
        {
            throw PortalException.Invalid("healthPath", $"healthPath must be an absolute path such as /healthz (no spaces or control characters); got '{request.HealthPath}'.");
        }

        group.Name = name;
        group.Description = Validate.Text(request.Description, "description");
        group.Servers = servers;
        group.HealthCheck = check;
        group.HealthPath = path;
    }

    /// <summary>A host name (no wildcard) or an IP address, normalised.</summary>
    private static string Server(string? value, string field) =>
        Validate.AddressOrNull(value) is { } address ? address.ToString() : Validate.Domain(value, field, allowWildcard: false);
}
