using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using Gatehouse.Cli.Connection;
using Gatehouse.Cli.Output;
using Gatehouse.Wire.Api;

namespace Gatehouse.Cli.Commands.Releases;

/// <summary>
/// <c>gatehouse content list|publish</c> (content every tenant can roll out) and
/// <c>gatehouse rollout list|show|create|halt|pause|resume</c> (staged rollouts of the caller's tenant).
/// </summary>
internal static class RolloutCommands
{
    public static IEnumerable<Command> Build(CliApp app)
    {
        yield return Content(app);
        yield return Rollouts(app);
    }

    private static Command Content(CliApp app)
    {
        var content = new Command("content", "Content pushed to agents (bypass lists): published once, rolled out per tenant");
        var channelFilter = new Option<string>("--channel") { Description = "Only this channel" };
        content.Subcommands.Add(app.Action(app.WithJson(new Command("list", "List published content versions") { channelFilter }), async run =>
        {
            var path = run.Get(channelFilter) is { } channel ? CliApp.Query("content", ("channel", channel)) : "content";
            var versions = await run.Client.GetAsync<List<ContentVersionDto>>(path, run.Cancellation);
            if (run.Out.Json)
            {
                run.Out.WriteJson(versions.Json);
                return;
            }

            var table = new Table("CHANNEL", "VERSION", "RECORDS", "BYTES", "SHA256");
            foreach (var v in versions.Value)
            {
                table.Row(v.Channel, v.Version, v.Records, v.Length, v.Sha256[..16]);
            }

            table.WriteTo(run.Environment.Stdout, run.Environment.UseColour);
        }));

        var channelArg = new Argument<string>("CHANNEL") { Description = "The channel (bypass)" };
        var file = new Argument<FileInfo>("FILE") { Description = "The content file; the portal loads it with the agent's own loader before signing it" };
        content.Subcommands.Add(app.Action(app.WithJson(new Command("publish", "Publish a content version (operators)") { channelArg, file }), async run =>
        {
            var channel = run.Require(channelArg).Trim();
            if (channel.Length == 0 || !channel.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                throw new CliException(ExitCodes.Usage, $"CHANNEL is a content channel's name, such as bypass; got '{Table.Printable(channel)}' (`gatehouse content list` shows the published ones)");
            }

            if (Directory.Exists(run.Require(file).FullName))
            {
                throw new CliException(ExitCodes.Usage, $"FILE is a content file; {run.Require(file).FullName} is a folder");
            }

            var bytes = await File.ReadAllBytesAsync(run.Require(file).FullName, run.Cancellation);
            var body = new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
            var published = await run.Client.SendContentAsync<ContentVersionDto>(HttpMethod.Post, $"content/{channel}", body, run.Cancellation);
            // 201 is a new version; 200 is these very bytes published already, and the portal changed nothing.
            run.Out.One(published, (w, v) => w.WriteLine(published.Status == HttpStatusCode.Created
                ? $"{v.Channel} {v.Version} published ({v.Records} records, {v.Length} bytes); roll it out with `gatehouse rollout create --channel {v.Channel} --version {v.Version}`"
                : $"{v.Channel} {v.Version} unchanged: these exact bytes are published already as {v.Channel} {v.Version} ({v.Records} records, {v.Length} bytes), which stays as it is; nothing was signed"));
        }));
        return content;
    }

    private static Command Rollouts(CliApp app)
    {
        var rollout = CliApp.Noun("rollout", "rollouts", "Staged rollouts that halt themselves when devices report trouble");
        rollout.Subcommands.Add(app.List<RolloutDto>("List rollouts", _ => "rollouts",
            () => new Table("ID", "CHANNEL", "VERSION", "STAGE", "SHARE", "STATUS", "REASON"),
            (t, r) => t.Row(r.Id, r.Channel, r.Version, r.Stage, Share(r.ShareBasisPoints), r.Status, r.Reason ?? "")));

        var id = new Argument<Guid>("ID") { Description = "The rollout's id" };
        rollout.Subcommands.Add(app.Action(app.WithJson(new Command("show", "Show a rollout and what its devices reported") { id }), async run =>
        {
            var found = await run.Client.GetAsync<RolloutDto>($"rollouts/{run.Require(id)}", run.Cancellation);
            await ShowAsync(run, found);
        }));

        var channel = new Option<string>("--channel") { Description = "The channel", Required = true };
        var version = new Option<string>("--version") { Description = "The published version to roll out", Required = true };
        var plan = new Option<string>("--plan") { Description = "rings (internal, canary 1%, early 10%, broad) or slow-roll" };
        var days = new Option<int?>("--days") { Description = "Days of a slow roll (7)" };
        var internalGroups = new Option<string[]>("--internal-group") { Description = "A group, by name or id, that goes first; repeatable", HelpName = "GROUP" };
        var groups = new Option<string[]>("--group") { Description = "Roll out to this group's devices only (the rest keep the baseline), by name or id; repeatable; default: the whole tenant", HelpName = "GROUP" };
        var pins = new Option<string[]>("--pin") { Description = "GROUP=VERSION (or N, N-1): keep a group, by name or id, on a version; repeatable" };
        var defers = new Option<string[]>("--defer") { Description = "GROUP=DAYS: hold a group, by name or id, back; repeatable" };
        var bake = new Option<int?>("--bake-minutes") { Description = "Every stage's bake time, overriding the plan's" };
        var minDevices = new Option<int?>("--min-devices") { Description = "Every stage's minimum of reporting devices, overriding the plan's" };
        var canary = new Option<int?>("--canary-basis-points") { Description = "The canary ring's share in basis points (100 = 1%, the default)" };
        var create = new Command("create", "Start rolling out a version to this tenant") { channel, version, plan, days, groups, internalGroups, pins, defers, bake, minDevices, canary };
        rollout.Subcommands.Add(app.Action(app.WithJson(create), async run =>
        {
            var request = new CreateRolloutRequest(
                run.Require(channel),
                run.Require(version),
                run.Get(plan),
                run.Get(days),
                await GroupIdsOrNullAsync(run, run.Get(internalGroups)),
                await PairsAsync(run, run.Get(pins), "--pin", v => v),
                await PairsAsync(run, run.Get(defers), "--defer", v => int.TryParse(v, out var n) ? n : throw new CliException(ExitCodes.Usage, $"--defer takes GROUP=DAYS; '{v}' is not a number of days")),
                run.Get(bake),
                run.Get(minDevices),
                run.Get(canary),
                await GroupIdsOrNullAsync(run, run.Get(groups)));
            var created = await run.Client.SendAsync<RolloutDto>(HttpMethod.Post, "rollouts", request, run.Cancellation);
            await ShowAsync(run, created);
        }));

        foreach (var (verb, text) in new[] { ("halt", "Halt a rollout: every device goes back to the last good version"), ("pause", "Pause a rollout at its stage"), ("resume", "Resume a paused or halted rollout at its stage") })
        {
            var target = new Argument<Guid>("ID") { Description = "The rollout's id" };
            var reason = new Option<string>("--reason") { Description = "Why, for the record" };
            var command = verb == "resume" ? new Command(verb, text) { target } : new Command(verb, text) { target, reason };
            rollout.Subcommands.Add(app.Action(app.WithJson(command), async run =>
            {
                var body = verb == "resume" ? null : new RolloutActionRequest(run.Get(reason));
                var changed = await run.Client.SendAsync<RolloutDto>(HttpMethod.Post, $"rollouts/{run.Require(target)}/{verb}", body, run.Cancellation);
                await ShowAsync(run, changed);
            }));
        }

        return rollout;
    }

    /// <summary>Writes a rollout (<see cref="Describe"/>), its groups by name: one list call, when it names any and the output is text.</summary>
    private static async Task ShowAsync(Invocation run, ApiResult<RolloutDto> rollout)
    {
        var r = rollout.Value;
        IReadOnlyList<Guid> ids = [.. r.GroupIds ?? [], .. r.InternalGroupIds ?? [], .. r.Pins?.Keys ?? [], .. r.DeferredUntil?.Keys ?? []];
        var names = new Dictionary<Guid, string>();
        if (ids.Count > 0 && !run.Out.Json)
        {
            foreach (var group in (await run.Client.ListAsync<GroupDto>("groups", null, run.Cancellation)).Value)
            {
                names[group.Id] = group.Name;
            }
        }

        // A group deleted since is shown by its id.
        string Name(Guid group) => names.TryGetValue(group, out var name) ? Table.Printable(name) : group.ToString();
        run.Out.One(rollout, (w, shown) => Describe(w, shown, Name));
    }

    private static void Describe(TextWriter w, RolloutDto r, Func<Guid, string> group)
    {
        w.WriteLine($"rollout {r.Id}: {r.Channel} {r.Version} (baseline {r.BaselineVersion ?? "none"}), plan {r.Plan}, for {(r.GroupIds is { Count: > 0 } g ? "groups " + string.Join(", ", g.Select(group)) : "the whole tenant")}");
        w.WriteLine($"  stage {r.Stage} of {string.Join(" > ", r.Stages)}, share {Share(r.ShareBasisPoints)}, {r.Status}{(r.Reason is null ? "" : $": {Table.Printable(r.Reason)}")}");
        if (r.InternalGroupIds is { Count: > 0 } internalRing)
        {
            w.WriteLine($"  internal ring: {string.Join(", ", internalRing.Select(group))}");
        }

        foreach (var (pinned, version) in r.Pins ?? new Dictionary<Guid, string>())
        {
            w.WriteLine($"  pinned: {group(pinned)} stays on {Table.Printable(version)}");
        }

        foreach (var (held, until) in r.DeferredUntil ?? new Dictionary<Guid, DateTimeOffset>())
        {
            w.WriteLine($"  held back: {group(held)} until {until.UtcDateTime:yyyy-MM-dd HH:mm}Z");
        }

        if (r.Health is { } h)
        {
            w.WriteLine($"  devices: {h.Updated} updated, {h.Reporting} reporting, {h.Crashed} went back, {h.Silent} silent, {h.Restarts} restarts, {h.InstallFailures} of {h.InstallAttempts} installs failed");
            w.WriteLine($"  tunnels on updated devices: {h.TunnelsOpened} opened, {h.TunnelsFailed} failed (no edge answered)");
        }
    }

    private static string Share(int basisPoints) => $"{basisPoints / 100.0:0.##}%";

    private static async Task<IReadOnlyList<Guid>?> GroupIdsOrNullAsync(Invocation run, string[]? namesOrIds) =>
        namesOrIds is { Length: > 0 } ? await NameLookup.GroupIdsAsync(run, namesOrIds) : null;

    /// <summary>GROUP=VALUE options, with each group given by name or id.</summary>
    private static async Task<Dictionary<Guid, T>?> PairsAsync<T>(Invocation run, string[]? values, string option, Func<string, T> parse)
    {
        if (values is null || values.Length == 0)
        {
            return null;
        }

        var split = new List<(string Group, T Value)>();
        foreach (var value in values)
        {
            var equals = value.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new CliException(ExitCodes.Usage, $"{option} takes GROUP=VALUE; got '{value}'");
            }

            split.Add((value[..equals], parse(value[(equals + 1)..])));
        }

        var ids = await NameLookup.GroupIdsAsync(run, [.. split.Select(p => p.Group)]);
        var pairs = new Dictionary<Guid, T>();
        for (var i = 0; i < split.Count; i++)
        {
            pairs[ids[i]] = split[i].Value;
        }

        return pairs;
    }
}
