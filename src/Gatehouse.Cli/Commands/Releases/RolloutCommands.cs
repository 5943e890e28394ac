using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Gatehouse.Cli.Connection;
using Gatehouse.Cli.Output;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Updates;

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
            var pinned = GroupPairs(run.Get(pins), "--pin", "GROUP=VERSION", pin => pin);
            var held = GroupPairs(run.Get(defers), "--defer", "GROUP=DAYS", Days);
            var known = pinned.Count > 0 || held.Count > 0 || run.Get(groups) is { Length: > 0 } || run.Get(internalGroups) is { Length: > 0 }
                ? await NameLookup.GroupsAsync(run)
                : null;
            var internalIds = IdsOrNull(known, run.Get(internalGroups));
            var pinIds = ByGroup(known, pinned, "--pin");
            var heldIds = ByGroup(known, held, "--defer");
            if (RolloutGroupParts.FirstClash(internalIds ?? [], pinIds?.Keys ?? [], heldIds?.Keys ?? []) is { } clash)
            {
                throw new CliException(ExitCodes.Usage, $"group {known!.NameOf(clash.GroupId)} is given to both {OptionOf(clash.Wins)} and {OptionOf(clash.Loses)}: {clash.Why}; give it one of them");
            }

            var request = new CreateRolloutRequest(
                run.Require(channel),
                run.Require(version),
                run.Get(plan),
                run.Get(days),
                internalIds,
                pinIds,
                heldIds,
                run.Get(bake),
                run.Get(minDevices),
                run.Get(canary),
                IdsOrNull(known, run.Get(groups)));
            var created = await run.Client.SendAsync<RolloutDto>(HttpMethod.Post, "rollouts", request, run.Cancellation);
            await ShowAsync(run, created, known);
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

    /// <summary>
    /// Writes a rollout (<see cref="Describe"/>), its groups by name: from <paramref name="known"/>, else one list call, when it
    /// names any and the output is text. A group deleted since is shown by its id.
    /// </summary>
    private static async Task ShowAsync(Invocation run, ApiResult<RolloutDto> rollout, KnownNames? known = null)
    {
        var r = rollout.Value;
        IReadOnlyList<Guid> ids = [.. r.GroupIds ?? [], .. r.InternalGroupIds ?? [], .. r.Pins?.Keys ?? [], .. r.DeferredUntil?.Keys ?? []];
        if (ids.Count > 0 && !run.Out.Json)
        {
            known ??= await NameLookup.GroupsAsync(run);
        }

        run.Out.One(rollout, (w, shown) => Describe(w, shown, group => known?.NameOf(group) ?? group.ToString()));
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

    private static List<Guid>? IdsOrNull(KnownNames? known, string[]? namesOrIds) =>
        namesOrIds is { Length: > 0 } ? [.. namesOrIds.Select(known!.IdOf)] : null;

    /// <summary>
    /// The values of a GROUP=VALUE option, split at the last '=': a value (a version, N, N-1, a number of days) never has
    /// one, and a group's name may (a=b=3 holds back the group a=b).
    /// </summary>
    private static List<GroupPair<T>> GroupPairs<T>(string[]? given, string option, string syntax, Func<string, T> parse)
    {
        var pairs = new List<GroupPair<T>>();
        foreach (var text in given ?? [])
        {
            var equals = text.LastIndexOf('=');
            if (equals <= 0 || equals == text.Length - 1)
            {
                throw new CliException(ExitCodes.Usage, $"{option} takes {syntax}; got '{Table.Printable(text)}'");
            }

            pairs.Add(new GroupPair<T>(text[..equals], parse(text[(equals + 1)..]), text));
        }

        return pairs;
    }

    private static int Days(string text) => int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var days)
        ? days
        : throw new CliException(ExitCodes.Usage, $"--defer takes GROUP=DAYS; '{Table.Printable(text)}' is not a number of days");

    /// <summary>The pairs by group id; a group given twice (by name in any case, or by id) is refused, not overwritten.</summary>
    private static IReadOnlyDictionary<Guid, T>? ByGroup<T>(KnownNames? known, List<GroupPair<T>> pairs, string option)
    {
        if (pairs.Count == 0)
        {
            return null;
        }

        var byGroup = new Dictionary<Guid, T>();
        var givenAs = new Dictionary<Guid, string>();
        foreach (var pair in pairs)
        {
            var id = known!.IdOf(pair.Group);
            if (!givenAs.TryAdd(id, pair.Text))
            {
                throw new CliException(ExitCodes.Usage, $"{option} gives group {known.NameOf(id)} twice ({Table.Printable(givenAs[id])}, {Table.Printable(pair.Text)}): give each group once");
            }

            byGroup[id] = pair.Value;
        }

        return byGroup;
    }

    private static string OptionOf(RolloutGroupPart part) => part switch
    {
        RolloutGroupPart.Internal => "--internal-group",
        RolloutGroupPart.Pinned => "--pin",
        _ => "--defer",
    };

    /// <summary>One GROUP=VALUE as given.</summary>
    private sealed record GroupPair<T>(string Group, T Value, string Text);
}
