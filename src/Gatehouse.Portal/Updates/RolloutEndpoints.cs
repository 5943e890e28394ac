using Gatehouse.Content.Channels;
using Gatehouse.Portal.Api;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Enrollment;
using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Users;
using Gatehouse.Rollouts.Control;
using Gatehouse.Trust.Certificates;
using Gatehouse.Tuf.Repository;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Updates;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Updates;

/// <summary>
/// Content, rollouts and the update repository:
/// <code>
///   GET  /tuf/metadata/FILE, /tuf/targets/PATH    the signed repository (public: everything in it is signed)
///   GET  /api/v1/content[?channel=]                published content versions
///   POST /api/v1/content/CHANNEL                   publish content (operators); the agent's loader must accept it
///   GET  /api/v1/rollouts, /rollouts/ID            rollouts of the caller's tenant
///   POST /api/v1/rollouts                          start one
///   POST /api/v1/rollouts/ID/halt|pause|resume     by hand
///   POST /api/v1/device/update-events              a device's update events and health (its certificate)
/// </code>
/// </summary>
internal static class RolloutEndpoints
{
    /// <summary>The largest content file the portal takes.</summary>
    public const int MaxContentBytes = 8 * 1024 * 1024;

    public static void MapUpdateRepository(this WebApplication app)
    {
        var tuf = app.MapGroup("/tuf").AllowAnonymous().ExcludeFromDescription();
        tuf.MapGet("/metadata/{file}", (string file, UpdateRepository repository) => Serve(repository.MetadataDirectory, file));
        tuf.MapGet("/targets/{**path}", (string path, UpdateRepository repository) => Serve(repository.TargetsDirectory, path));
    }

    public static RouteGroupBuilder MapRollouts(this RouteGroupBuilder api)
    {
        var content = api.MapGroup("/content").WithTags("content");
        content.MapGet("/", (string? channel, UpdateRepository repository) => repository.ContentVersions(channel));
        content.MapPost("/{channel}", PublishContentAsync).RequireAuthorization(AuthPolicies.Operator)
            .WithMetadata(new BodySizeLimit(MaxContentBytes));

        var rollouts = api.MapGroup("/rollouts").WithTags("rollouts");
        rollouts.MapGet("/", async (PortalDbContext db, string? cursor, int? limit, CancellationToken ct) =>
            await db.Set<Rollout>().AsNoTracking().PageAsync(r => r.Id, cursor, limit, r => r.ToDto(), ct));
        rollouts.MapGet("/{id:guid}", async (Guid id, PortalDbContext db, CancellationToken ct) => (await FindAsync(db, id, ct)).ToDto());
        rollouts.MapPost("/", CreateAsync).RequireAuthorization(AuthPolicies.Write);
        rollouts.MapPost("/{id:guid}/halt", (Guid id, RolloutActionRequest? request, PortalDbContext db, AuditLog audit, UpdateRepository repository, TimeProvider time, CancellationToken ct) =>
            ActAsync(id, "halt", c => c.Halt(ReasonOr(request, "halted by an admin")), db, audit, repository, time, ct)).RequireAuthorization(AuthPolicies.Write);
        rollouts.MapPost("/{id:guid}/pause", (Guid id, RolloutActionRequest? request, PortalDbContext db, AuditLog audit, UpdateRepository repository, TimeProvider time, CancellationToken ct) =>
            ActAsync(id, "pause", c => c.Pause(ReasonOr(request, "paused by an admin")), db, audit, repository, time, ct)).RequireAuthorization(AuthPolicies.Write);
        rollouts.MapPost("/{id:guid}/resume", (Guid id, PortalDbContext db, AuditLog audit, UpdateRepository repository, TimeProvider time, CancellationToken ct) =>
            ActAsync(id, "resume", c => c.Resume(time.GetUtcNow()), db, audit, repository, time, ct)).RequireAuthorization(AuthPolicies.Write);

        api.MapPost("/device/update-events", ReportAsync).RequireAuthorization(CertificateAuthenticationHandler.Policy).WithTags("rollouts");
        return api;
    }

    private static IResult Serve(string directory, string path)
    {
        if (!TufRepository.IsSafeTargetPath(path) || path.Contains('\\', StringComparison.Ordinal))
        {
            return Results.NotFound();
        }

        var full = Path.Combine(directory, path);
        return File.Exists(full) ? Results.File(full, "application/octet-stream") : Results.NotFound();
    }

    private static async Task<IResult> PublishContentAsync(string channel, HttpRequest request, UpdateRepository repository, AuditLog audit, PortalDbContext db, CancellationToken ct)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, ct);
        if (!ContentChannels.All.Any(c => c.Name == channel))
        {
            throw PortalException.NotFound($"Content channel '{channel}'");
        }

        var (published, isNew) = await repository.PublishContentAsync(channel, body.ToArray(), ct);
        if (!isNew)
        {
            return Results.Ok(published); // the same bytes again: nothing changed, nothing to audit
        }

        audit.Record("content.publish", "content", $"{published.Channel}/{published.Version}", null, published);
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/content?channel={channel}", published);
    }

    private static async Task<Rollout> FindAsync(PortalDbContext db, Guid id, CancellationToken ct) =>
        await db.Set<Rollout>().FirstOrDefaultAsync(r => r.Id == id, ct) ?? throw PortalException.NotFound("Rollout");

    /// <summary>The longest a group may be held back from a rollout.</summary>
    private const int MaxDeferDays = 365;

    private static async Task<IResult> CreateAsync(CreateRolloutRequest request, Caller caller, PortalDbContext db, AuditLog audit, UpdateRepository repository, TimeProvider time, CancellationToken ct)
    {
        var channel = request.Channel ?? "";
        if (channel != AgentReleases.Channel && !ContentChannels.All.Any(c => c.Name == channel))
        {
            throw PortalException.Invalid("channel", $"No channel '{channel}'; the channels are {AgentReleases.Channel}, {string.Join(", ", ContentChannels.All.Select(c => c.Name))}.");
        }

        if (!IsPublished(repository, channel, request.Version ?? ""))
        {
            throw PortalException.Invalid("version", channel == AgentReleases.Channel
                ? $"Agent build '{request.Version}' is not in the repository; sign it into the releases role with `gatehouse release add` first."
                : $"Version '{request.Version}' of {channel} is not published; publish it first (POST /api/v1/content/{channel}).");
        }

        var plan = request.Plan is null ? RolloutPlans.Rings : Validate.OneOf(request.Plan, "plan", RolloutPlans.All);
        var days = request.Days ?? 7;
        if (days is < 1 or > 90)
        {
            throw PortalException.Invalid("days", $"A slow roll takes 1 to 90 days; got {days}.");
        }

        if (request.Days is not null && plan != RolloutPlans.SlowRoll)
        {
            throw PortalException.Invalid("days", $"days applies to the {RolloutPlans.SlowRoll} plan only; the {plan} plan moves stage by stage as each one's health allows.");
        }

        foreach (var deferral in (request.DeferDays ?? new Dictionary<Guid, int>()).Values)
        {
            if (deferral is < 0 or > MaxDeferDays)
            {
                throw PortalException.Invalid("deferDays", $"A group is held back 0 to {MaxDeferDays} days; got {deferral}.");
            }
        }

        if (request.CanaryBasisPoints is < 1 or > 10_000 || (request.CanaryBasisPoints is not null && plan != RolloutPlans.Rings))
        {
            throw PortalException.Invalid("canaryBasisPoints", "canaryBasisPoints (1 to 10000) applies to the rings plan only.");
        }

        if (request.BakeMinutes is < 0 or > 60 * 24 * 30 || request.MinDevices is < 1 or > 1_000_000)
        {
            throw PortalException.Invalid(request.BakeMinutes is < 0 or > 60 * 24 * 30 ? "bakeMinutes" : "minDevices", "bakeMinutes must be 0 to 43200 and minDevices 1 to 1000000.");
        }

        var active = await db.Set<Rollout>().Where(r => r.Channel == channel && (r.Status == "running" || r.Status == "paused")).Select(r => r.Version).FirstOrDefaultAsync(ct);
        if (active is not null)
        {
            throw PortalException.Conflict($"A rollout of {channel} {active} is still running or paused; halt it or let it complete first.");
        }

        var baseline = await db.Set<Rollout>().Where(r => r.Channel == channel && r.Status == "completed")
            .OrderByDescending(r => r.CreatedAt).Select(r => r.Version).FirstOrDefaultAsync(ct);
        var names = await GroupNamesAsync(db, request, ct);
        if (RolloutGroupParts.FirstClash(request.InternalGroupIds ?? [], request.Pins?.Keys ?? [], request.DeferDays?.Keys ?? []) is { } clash)
        {
            throw PortalException.Invalid(FieldOf(clash.Loses), $"Group '{names[clash.GroupId]}' is in both {FieldOf(clash.Wins)} and {FieldOf(clash.Loses)}: {clash.Why}. Give it one of them.");
        }

        var now = time.GetUtcNow();
        var rollout = new Rollout
        {
            Id = Guid.CreateVersion7(now),
            TenantId = caller.TenantId,
            Channel = channel,
            Version = request.Version!,
            BaselineVersion = baseline,
            Plan = plan,
            Days = days,
            BakeMinutes = request.BakeMinutes,
            MinDevices = request.MinDevices,
            CanaryBasisPoints = request.CanaryBasisPoints,
            InternalGroupIds = [.. (request.InternalGroupIds ?? []).Distinct()],
            AudienceGroupIds = [.. (request.GroupIds ?? []).Distinct()],
            Pins = ResolvePins(request, channel, baseline, repository, names),
            Deferrals = (request.DeferDays ?? new Dictionary<Guid, int>()).ToDictionary(d => d.Key, d => now.AddDays(d.Value)),
            StageIndex = 0,
            Status = "running",
            StageStartedAt = now,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Set<Rollout>().Add(rollout);
        audit.Record("rollout.create", "rollout", rollout.Id, null, rollout.ToDto());
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (ProblemMapping.IsUniqueViolation(e))
        {
            // Another create for the channel saved first.
            throw PortalException.Conflict($"A rollout of {channel} was created at the same moment and is running; halt it or let it complete first.");
        }

        await repository.PublishDescriptorAsync(rollout.TenantId, RolloutState.Describe(rollout), ct);
        return Results.Created($"/api/v1/rollouts/{rollout.Id}", rollout.ToDto());
    }

    /// <summary>The names of the groups the request names, by id; a group not in this tenant is refused with the field that names it.</summary>
    private static async Task<Dictionary<Guid, string>> GroupNamesAsync(PortalDbContext db, CreateRolloutRequest request, CancellationToken ct)
    {
        var named = new (string Field, IEnumerable<Guid> Ids)[]
        {
            ("internalGroupIds", request.InternalGroupIds ?? []),
            ("groupIds", request.GroupIds ?? []),
            ("pins", request.Pins?.Keys ?? []),
            ("deferDays", request.DeferDays?.Keys ?? []),
        };
        var ids = named.SelectMany(n => n.Ids).Distinct().ToList();
        var names = await db.Set<Group>().Where(g => ids.Contains(g.Id)).ToDictionaryAsync(g => g.Id, g => g.Name, ct);
        foreach (var (field, groups) in named)
        {
            foreach (var group in groups.Where(g => !names.ContainsKey(g)))
            {
                throw PortalException.Invalid(field, $"No group {group} in this tenant.");
            }
        }

        return names;
    }

    private static string FieldOf(RolloutGroupPart part) => part switch
    {
        RolloutGroupPart.Internal => "internalGroupIds",
        RolloutGroupPart.Pinned => "pins",
        _ => "deferDays",
    };

    /// <summary>Each pin's version: <c>N</c> is the version rolled out, <c>N-1</c> the baseline, anything else a version of the channel.</summary>
    private static Dictionary<Guid, string> ResolvePins(CreateRolloutRequest request, string channel, string? baseline, UpdateRepository repository, Dictionary<Guid, string> names)
    {
        var pins = new Dictionary<Guid, string>();
        foreach (var (group, wanted) in request.Pins ?? new Dictionary<Guid, string>())
        {
            var version = wanted switch
            {
                "N" => request.Version,
                "N-1" => baseline ?? throw PortalException.Invalid("pins", $"Group '{names[group]}' is pinned to N-1, the baseline, but {channel} has none yet: no rollout of it has completed. Pin it to N or to a version."),
                _ => wanted,
            };
            pins[group] = IsPublished(repository, channel, version)
                ? version
                : throw PortalException.Invalid("pins", $"Group '{names[group]}' cannot be pinned to '{wanted}': a pin is N (the version rolled out), N-1 (the baseline{(baseline is null ? "" : $", {baseline}")}) or {(channel == AgentReleases.Channel ? "an agent build signed into the repository" : $"a published version of {channel}")}.");
        }

        return pins;
    }

    private static bool IsPublished(UpdateRepository repository, string channel, string version) =>
        channel == AgentReleases.Channel ? repository.HasRelease(version) : repository.FindContent(channel, version) is not null;

    private static string ReasonOr(RolloutActionRequest? request, string otherwise) =>
        Validate.Text(request?.Reason, "reason") is { Length: > 0 } reason ? reason : otherwise;

    private static async Task<RolloutDto> ActAsync(Guid id, string action, Action<RolloutController> act, PortalDbContext db, AuditLog audit, UpdateRepository repository, TimeProvider time, CancellationToken ct)
    {
        var rollout = await FindAsync(db, id, ct);
        var newest = await db.Set<Rollout>().Where(r => r.Channel == rollout.Channel).OrderByDescending(r => r.CreatedAt).Select(r => r.Id).FirstAsync(ct);
        if (newest != rollout.Id)
        {
            // Devices follow one descriptor per channel, the newest rollout's: an older one acted on would replace it.
            throw PortalException.Conflict($"A newer rollout of {rollout.Channel} ({newest}) has replaced this one; act on that one, or create a new rollout.");
        }

        var before = rollout.ToDto();
        var controller = RolloutState.ControllerOf(rollout);
        try
        {
            act(controller);
        }
        catch (InvalidOperationException e)
        {
            throw PortalException.Conflict(e.Message);
        }

        RolloutState.Store(rollout, controller, time.GetUtcNow());
        audit.Record($"rollout.{action}", "rollout", rollout.Id, before, rollout.ToDto());
        await db.SaveChangesAsync(ct);
        await repository.PublishDescriptorAsync(rollout.TenantId, RolloutState.Describe(rollout), ct);
        return rollout.ToDto();
    }

    private static async Task<IResult> ReportAsync(UpdateEventReport? report, CertificateCaller caller, PortalDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (caller.Kind != IdentityKinds.Device)
        {
            throw PortalException.Forbidden($"A {caller.Kind} certificate cannot report device update events.");
        }

        if (report is null || string.IsNullOrEmpty(report.Channel) || report.Channel.Length > 64 || string.IsNullOrEmpty(report.Version) || report.Version.Length > 64)
        {
            throw PortalException.Invalid("$", "The body must be an update event with a channel and a version (64 characters at most).");
        }

        var kind = Validate.OneOf(report.Event, "event", UpdateEvents.All);
        if (report.Restarts is < 0 or > 10_000 || report.Detail?.Length > 1000)
        {
            throw PortalException.Invalid(report.Detail?.Length > 1000 ? "detail" : "restarts", "restarts must be 0 to 10000 and detail at most 1000 characters.");
        }

        if (report.RoleRestarts is { } byRole && byRole.Any(r => r.Value is < 0 or > 10_000))
        {
            throw PortalException.Invalid("roleRestarts", $"roleRestarts maps roles ({string.Join(", ", AgentRoles.All)}) to 0 to 10000 restarts.");
        }

        if (report.TunnelsOpened is < 0 or > 10_000_000 || report.TunnelsFailed is < 0 or > 10_000_000)
        {
            throw PortalException.Invalid(report.TunnelsOpened is < 0 or > 10_000_000 ? "tunnelsOpened" : "tunnelsFailed", "tunnel counts must be 0 to 10000000.");
        }

        db.Set<UpdateReport>().Add(new UpdateReport
        {
            Id = Guid.CreateVersion7(time.GetUtcNow()),
            TenantId = caller.TenantId,
            DeviceId = caller.SubjectId,
            Channel = report.Channel,
            Version = report.Version,
            Event = kind,
            Restarts = report.Restarts,
            Detail = report.Detail,
            RoleRestarts = KnownRoles(report.RoleRestarts),
            TunnelsOpened = report.TunnelsOpened,
            TunnelsFailed = report.TunnelsFailed,
            At = time.GetUtcNow(),
        });
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    /// <summary>
    /// The restarts of the roles this portal knows. A newer agent may run a role this portal does not know: its
    /// restarts still count in <see cref="UpdateEventReport.Restarts"/>, which rollout health reads, and the
    /// heartbeat is not refused for it (a refused heartbeat would leave the rollout without its health).
    /// </summary>
    private static Dictionary<string, int>? KnownRoles(IReadOnlyDictionary<string, int>? byRole)
    {
        var known = byRole?.Where(r => AgentRoles.All.Contains(r.Key)).ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal);
        return known is { Count: > 0 } ? known : null;
    }
}
