using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tests.Enrollment;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Portal.Updates;
using Gatehouse.Testing;
using Gatehouse.Tuf.Client;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Updates;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Portal.Tests.Updates;

/// <summary>
/// Content publishing, the signed repository and rollouts through the portal's API: content is
/// loaded with the agent's loader before it is signed, devices verify everything with a TUF
/// client, and a rollout halts itself on what devices report.
/// </summary>
public sealed class RolloutTests : IAsyncLifetime
{
    private readonly MovableClock _clock = new();
    private PortalServer _portal = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        // Rollouts are evaluated by the tests, not by the timer.
        _portal = await PortalServer.StartAsync(configure: o => o.RolloutEvaluationSeconds = 3600, time: _clock);
        _admin = await _portal.SignInAsync();
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _portal.DisposeAsync();
    }

    [Fact]
    public async Task Content_the_agents_loader_refuses_is_refused_at_publish_and_nothing_is_signed()
    {
        Assert.Equal(HttpStatusCode.Created, (await PublishAsync(Bypass("1"))).StatusCode);
        var timestamp = await File.ReadAllBytesAsync(Path.Combine(_portal.DataDirectory, "updates", "repository", "metadata", "timestamp.json"));

        var july2024 = await PublishAsync(Bypass("2", fields: ["kind", "value", "ports", "note", "extra"], ["domain", "a.example", "443", "n", "21st"]));

        Assert.Equal(HttpStatusCode.BadRequest, july2024.StatusCode);
        Assert.Contains("declares 5 fields; this build reads 4", await july2024.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(timestamp, await File.ReadAllBytesAsync(Path.Combine(_portal.DataDirectory, "updates", "repository", "metadata", "timestamp.json")));
        var versions = await _admin.GetFromJsonAsync<List<ContentVersionDto>>("content?channel=bypass", PortalServer.Json);
        Assert.Equal(["1"], versions!.Select(v => v.Version));
    }

    [Theory]
    // The field was "$" for every refusal, and a repeated property was "(line ): Duplicate property ..."
    [InlineData("{\"channel\":\"bypass\",\n\"channel\":\"bypass\"}",
        "The agent's loader refuses this content: content gives \"channel\" twice in one object, at line 1, column 2 and at line 2, column 1; give each property once", "channel")]
    [InlineData("{\"channel\":\"bypass\",\"schemaVersion\":\"1\",\"version\":\"2\",\"fields\":[],\"records\":[]}",
        "The agent's loader refuses this content: schemaVersion must be a positive integer; it is the string \"1\"", "schemaVersion")]
    [InlineData("{\"channel\":\"bypass\",\"schemaVersion\":1,\"version\":\"2\",\"fields\":[\"kind\",\"value\",\"ports\",\"note\"],\"records\":[[\"domain\",\"a..example\",\"\",\"\"]]}",
        "The agent's loader refuses this content: bypass content records[0]: \"a..example\" is not a domain", "records[0][1]")]
    [InlineData("nope", "The agent's loader refuses this content: content is not valid JSON at line 1, column 2: 'nope' is an invalid JSON literal. Expected the literal 'null'.", null)]
    public async Task A_refusal_says_where_in_the_file_by_line_or_by_field_and_names_no_placeholder(string content, string detail, string? field)
    {
        var problem = await Problem.ReadAsync(await PublishAsync(Encoding.UTF8.GetBytes(content)), HttpStatusCode.BadRequest);

        Assert.Equal((detail, field), (problem.Detail, problem.Field));
    }

    [Fact]
    public async Task A_published_version_cannot_change_but_the_same_bytes_are_accepted_again()
    {
        Assert.Equal(HttpStatusCode.Created, (await PublishAsync(Bypass("1"))).StatusCode);

        // The same bytes again change nothing: 200, not 201, and no second audit entry saying they were published.
        Assert.Equal(HttpStatusCode.OK, (await PublishAsync(Bypass("1"))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await PublishAsync(Bypass("1", null, ["domain", "other.example", "", ""]))).StatusCode);
        Assert.Single((await _admin.GetFromJsonAsync<Page<AuditEntryDto>>("audit?action=content.publish", PortalServer.Json))!.Items);
    }

    [Fact]
    public async Task A_device_verifies_content_and_its_rollout_descriptor_from_the_portal_with_a_tuf_client()
    {
        await PublishAsync(Bypass("1"));
        var rollout = await CreateRolloutAsync(new CreateRolloutRequest("bypass", "1"));
        using var device = await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin));

        var updater = NewTufClient();
        await updater.RefreshAsync();
        var descriptor = await DescriptorAsync(updater, device.Response.TenantId);
        var content = await updater.GetTargetInfoAsync(descriptor.Candidate.Target);

        Assert.Equal("canary", rollout.Stage);
        Assert.Equal(100, descriptor.ShareBasisPoints);
        Assert.Equal("1", descriptor.Candidate.Version);
        Assert.NotNull(content);
        Assert.Equal(Bypass("1"), await File.ReadAllBytesAsync(await updater.DownloadTargetAsync(content)));
    }

    [Fact]
    public async Task A_rollout_whose_devices_go_back_by_themselves_halts_and_its_descriptor_sends_everyone_to_the_baseline()
    {
        var devices = await CompleteFirstRolloutAsync("1", 3);
        await PublishAsync(Bypass("2"));
        var rollout = await CreateRolloutAsync(new CreateRolloutRequest("bypass", "2", BakeMinutes: 0, MinDevices: 3));
        Assert.Equal("1", rollout.BaselineVersion);

        foreach (var device in devices)
        {
            await ReportAsync(device, "2", UpdateEvents.Installed);
        }

        await ReportAsync(devices[0], "2", UpdateEvents.Reverted, detail: "crashed 3 times at load");
        await ReportAsync(devices[1], "2", UpdateEvents.Reverted, detail: "crashed 3 times at load");
        await EvaluateAsync();

        var halted = await _admin.GetFromJsonAsync<RolloutDto>($"rollouts/{rollout.Id}", PortalServer.Json);
        Assert.Equal("halted", halted!.Status);
        Assert.Contains("2 of 3 updated devices crashed", halted.Reason, StringComparison.Ordinal);
        Assert.Equal(2, halted.Health!.Crashed);
        var updater = NewTufClient();
        await updater.RefreshAsync();
        var descriptor = await DescriptorAsync(updater, devices[0].Response.TenantId);
        Assert.Equal(0, descriptor.ShareBasisPoints);
        Assert.False(descriptor.Internal);
        Assert.Equal("1", descriptor.VersionFor(devices[0].Response.SubjectId, [], DateTimeOffset.UtcNow)!.Version);
    }

    [Fact]
    public async Task Devices_that_install_and_fall_silent_halt_the_rollout()
    {
        var devices = await CompleteFirstRolloutAsync("1", 3);
        await PublishAsync(Bypass("2"));
        var rollout = await CreateRolloutAsync(new CreateRolloutRequest("bypass", "2", BakeMinutes: 60, MinDevices: 3));
        foreach (var device in devices)
        {
            await ReportAsync(device, "2", UpdateEvents.Installed);
        }

        _clock.Advance(TimeSpan.FromMinutes(16)); // the silence window is 15 minutes
        await EvaluateAsync();

        var halted = await _admin.GetFromJsonAsync<RolloutDto>($"rollouts/{rollout.Id}", PortalServer.Json);
        Assert.Equal("halted", halted!.Status);
        Assert.Equal(3, halted.Health!.Silent);
    }

    [Fact]
    public async Task A_healthy_rollout_moves_through_every_ring_and_becomes_the_next_baseline()
    {
        var devices = await CompleteFirstRolloutAsync("1", 3);

        var second = await CreateAndCompleteAsync("2", devices);

        Assert.Equal("completed", second.Status);
        Assert.Equal("1", second.BaselineVersion);
        var third = await PublishAndCreateAsync("3");
        Assert.Equal("2", third.BaselineVersion);
    }

    [Fact]
    public async Task Halt_and_resume_by_hand_publish_a_share_of_zero_then_the_same_share_again()
    {
        await PublishAsync(Bypass("1"));
        var rollout = await CreateRolloutAsync(new CreateRolloutRequest("bypass", "1"));
        using var device = await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin));

        var halted = await (await _admin.PostAsJsonAsync($"rollouts/{rollout.Id}/halt", new RolloutActionRequest("looks wrong"), PortalServer.Json)).Content.ReadFromJsonAsync<RolloutDto>(PortalServer.Json);
        var updater = NewTufClient();
        await updater.RefreshAsync();
        Assert.Equal(0, (await DescriptorAsync(updater, device.Response.TenantId)).ShareBasisPoints);
        var resumed = await (await _admin.PostAsync($"rollouts/{rollout.Id}/resume", null)).Content.ReadFromJsonAsync<RolloutDto>(PortalServer.Json);
        updater = NewTufClient();
        await updater.RefreshAsync();

        Assert.Equal("halted", halted!.Status);
        Assert.Equal("looks wrong", halted.Reason);
        Assert.Equal("running", resumed!.Status);
        Assert.Equal(100, (await DescriptorAsync(updater, device.Response.TenantId)).ShareBasisPoints);
        Assert.Equal(HttpStatusCode.Conflict, (await _admin.PostAsync($"rollouts/{rollout.Id}/resume", null)).StatusCode);
    }

    [Fact]
    public async Task A_rollout_a_newer_one_replaced_cannot_be_acted_on_and_the_newer_ones_descriptor_stays()
    {
        // Halting the old, halted rollout again republished its descriptor: devices went back to it, while the list said the new one ran.
        await PublishAsync(Bypass("1"));
        await PublishAsync(Bypass("2"));
        var old = await CreateRolloutAsync(new CreateRolloutRequest("bypass", "1"));
        Assert.Equal(HttpStatusCode.OK, (await _admin.PostAsJsonAsync($"rollouts/{old.Id}/halt", new RolloutActionRequest("first"), PortalServer.Json)).StatusCode);
        var current = await CreateRolloutAsync(new CreateRolloutRequest("bypass", "2"));
        using var device = await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin));

        var haltOld = await _admin.PostAsJsonAsync($"rollouts/{old.Id}/halt", new RolloutActionRequest("again"), PortalServer.Json);
        var resumeOld = await _admin.PostAsync($"rollouts/{old.Id}/resume", null);
        var updater = NewTufClient();
        await updater.RefreshAsync();

        Assert.Equal(HttpStatusCode.Conflict, haltOld.StatusCode);
        Assert.Contains($"A newer rollout of bypass ({current.Id})", await haltOld.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, resumeOld.StatusCode);
        var descriptor = await DescriptorAsync(updater, device.Response.TenantId);
        Assert.Equal(("2", "running"), (descriptor.Candidate.Version, descriptor.Status));
        var rollouts = await _admin.GetFromJsonAsync<Page<RolloutDto>>("rollouts", PortalServer.Json);
        Assert.Equal(["running", "halted"], rollouts!.Items.OrderByDescending(r => r.CreatedAt).Select(r => r.Status));
        Assert.Equal("first", rollouts.Items.Single(r => r.Id == old.Id).Reason);
    }

    [Fact]
    public async Task Halting_a_halted_rollout_keeps_its_first_reason_and_a_halt_without_a_reason_says_who()
    {
        await PublishAsync(Bypass("1"));
        var rollout = await CreateRolloutAsync(new CreateRolloutRequest("bypass", "1"));

        var escape = await _admin.PostAsJsonAsync($"rollouts/{rollout.Id}/halt", new RolloutActionRequest("red\u001b[31mRED"), PortalServer.Json);
        var tooLong = await _admin.PostAsJsonAsync($"rollouts/{rollout.Id}/pause", new RolloutActionRequest(new string('x', 1001)), PortalServer.Json);
        var first = await _admin.PostAsync($"rollouts/{rollout.Id}/halt", JsonContent.Create(new { }));
        var second = await _admin.PostAsJsonAsync($"rollouts/{rollout.Id}/halt", new RolloutActionRequest("me too"), PortalServer.Json);

        Assert.Equal(HttpStatusCode.BadRequest, escape.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("halted by an admin", (await first.Content.ReadFromJsonAsync<RolloutDto>(PortalServer.Json))!.Reason);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Contains("already halted: halted by an admin", await second.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rollouts_created_at_the_same_moment_leave_one_running()
    {
        await PublishAsync(Bypass("1"));

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => _admin.PostAsJsonAsync("rollouts", new CreateRolloutRequest("bypass", "1"), PortalServer.Json)));

        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Created);
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Created), a => Assert.Equal(HttpStatusCode.Conflict, a.StatusCode));
        var rollouts = await _admin.GetFromJsonAsync<Page<RolloutDto>>("rollouts", PortalServer.Json);
        Assert.Single(rollouts!.Items, r => r.Status == "running");
    }

    [Fact]
    public async Task A_change_saved_from_an_older_read_of_a_rollout_fails_and_undoes_nothing()
    {
        // The supervisor read a running rollout, an admin halted it, and the supervisor's save set it running again.
        await PublishAsync(Bypass("1"));
        var rollout = await CreateRolloutAsync(new CreateRolloutRequest("bypass", "1", Plan: "slow-roll"));
        using var scope = _portal.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var stale = await db.Set<Rollout>().IgnoreQueryFilters().SingleAsync(r => r.Id == rollout.Id);

        Assert.Equal(HttpStatusCode.OK, (await _admin.PostAsJsonAsync($"rollouts/{rollout.Id}/halt", new RolloutActionRequest("stop"), PortalServer.Json)).StatusCode);
        var controller = RolloutState.ControllerOf(stale);
        controller.Pause("inconclusive");
        RolloutState.Store(stale, controller, _clock.GetUtcNow());

        await Assert.ThrowsAsync<Microsoft.EntityFrameworkCore.DbUpdateConcurrencyException>(() => db.SaveChangesAsync());
        Assert.Equal("halted", (await _admin.GetFromJsonAsync<RolloutDto>($"rollouts/{rollout.Id}", PortalServer.Json))!.Status);
    }

    [Fact]
    public async Task A_second_rollout_of_a_channel_waits_for_the_first_and_unpublished_versions_are_refused()
    {
        await PublishAsync(Bypass("1"));
        await CreateRolloutAsync(new CreateRolloutRequest("bypass", "1"));
        await PublishAsync(Bypass("2"));

        Assert.Equal(HttpStatusCode.Conflict, (await _admin.PostAsJsonAsync("rollouts", new CreateRolloutRequest("bypass", "2"), PortalServer.Json)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.PostAsJsonAsync("rollouts", new CreateRolloutRequest("bypass", "9"), PortalServer.Json)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _admin.PostAsJsonAsync("rollouts", new CreateRolloutRequest("nope", "1"), PortalServer.Json)).StatusCode);
        var unsignedBuild = await _admin.PostAsJsonAsync("rollouts", new CreateRolloutRequest("agent", "9.9.9"), PortalServer.Json);
        Assert.Equal(HttpStatusCode.BadRequest, unsignedBuild.StatusCode);
        Assert.Contains("gatehouse release add", await unsignedBuild.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Options_out_of_range_or_for_another_plan_are_refused_not_clamped_or_ignored()
    {
        // Deferrals were clamped to 0-365 days and days ignored on the rings plan, without a word.
        await PublishAsync(Bypass("1"));
        var pilots = await CreateGroupAsync("pilots");
        var cases = new (CreateRolloutRequest Request, string Field)[]
        {
            (new CreateRolloutRequest("bypass", "1", DeferDays: new Dictionary<Guid, int> { [pilots.Id] = 400 }), "deferDays"),
            (new CreateRolloutRequest("bypass", "1", DeferDays: new Dictionary<Guid, int> { [pilots.Id] = -1 }), "deferDays"),
            (new CreateRolloutRequest("bypass", "1", Days: 3), "days"),
            (new CreateRolloutRequest("bypass", "1", Plan: RolloutPlans.Rings, Days: 3), "days"),
        };
        foreach (var (request, field) in cases)
        {
            var refused = await _admin.PostAsJsonAsync("rollouts", request, PortalServer.Json);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains($"\"{field}\"", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Empty((await _admin.GetFromJsonAsync<Page<RolloutDto>>("rollouts", PortalServer.Json))!.Items);
        Assert.Equal(HttpStatusCode.Created, (await _admin.PostAsJsonAsync("rollouts", new CreateRolloutRequest("bypass", "1", Plan: RolloutPlans.SlowRoll, Days: 3, DeferDays: new Dictionary<Guid, int> { [pilots.Id] = 365 }), PortalServer.Json)).StatusCode);
    }

    [Fact]
    public async Task A_group_given_two_parts_is_refused_by_name_at_the_part_that_would_never_apply()
    {
        // A pin and a hold on one group were both stored; devices followed the pin and the hold never applied.
        await PublishAsync(Bypass("1"));
        var pilots = await CreateGroupAsync("pilots");
        var pinned = new Dictionary<Guid, string> { [pilots.Id] = "N" };
        var held = new Dictionary<Guid, int> { [pilots.Id] = 3 };
        var cases = new (CreateRolloutRequest Request, string Field, string Parts)[]
        {
            (new CreateRolloutRequest("bypass", "1", Pins: pinned, DeferDays: held), "deferDays", "pins and deferDays"),
            (new CreateRolloutRequest("bypass", "1", InternalGroupIds: [pilots.Id], Pins: pinned), "internalGroupIds", "pins and internalGroupIds"),
            (new CreateRolloutRequest("bypass", "1", InternalGroupIds: [pilots.Id], DeferDays: held), "internalGroupIds", "deferDays and internalGroupIds"),
        };
        foreach (var (request, field, parts) in cases)
        {
            var problem = await RefusedAsync(request);
            Assert.Equal(field, problem.GetProperty("field").GetString());
            Assert.StartsWith($"Group 'pilots' is in both {parts}: ", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Empty((await _admin.GetFromJsonAsync<Page<RolloutDto>>("rollouts", PortalServer.Json))!.Items);

        // A hold on a group outside the audience is no clash: it holds back those of its members who are in the audience.
        var engineering = await CreateGroupAsync("engineering");
        await CreateRolloutAsync(new CreateRolloutRequest("bypass", "1", Pins: new Dictionary<Guid, string> { [engineering.Id] = "N" }, DeferDays: held, GroupIds: [engineering.Id]));
    }

    [Fact]
    public async Task A_group_given_twice_in_pins_or_deferDays_is_refused_in_words_even_in_another_case()
    {
        // Refused, but as "Duplicate properties not allowed during deserialization.", which says neither what nor why.
        await PublishAsync(Bypass("1"));
        var pilots = (await CreateGroupAsync("pilots")).Id;
        var lower = pilots.ToString();
        var upper = lower.ToUpperInvariant();

        foreach (var (body, field) in new[]
        {
            ($$$"""{"channel":"bypass","version":"1","pins":{"{{{lower}}}":"N","{{{lower}}}":"1"}}""", $"pins.{lower}"),
            ($$$"""{"channel":"bypass","version":"1","pins":{"{{{lower}}}":"N","{{{upper}}}":"1"}}""", $"pins.{upper}"),
            ($$$"""{"channel":"bypass","version":"1","deferDays":{"{{{lower}}}":1,"{{{upper}}}":2}}""", $"deferDays.{upper}"),
        })
        {
            var refused = await _admin.PostAsync("rollouts", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal((field, $"{field} is given twice; give it once."), (problem.GetProperty("field").GetString(), problem.GetProperty("detail").GetString()));
        }

        Assert.Empty((await _admin.GetFromJsonAsync<Page<RolloutDto>>("rollouts", PortalServer.Json))!.Items);
    }

    [Theory]
    [InlineData("N-2", "Group 'pilots' cannot be pinned to 'N-2': a pin is N (the version rolled out), N-1 (the baseline) or a published version of bypass.")]
    [InlineData("N-1", "Group 'pilots' is pinned to N-1, the baseline, but bypass has none yet: no rollout of it has completed. Pin it to N or to a version.")]
    public async Task A_pin_that_names_no_version_says_what_a_pin_is(string pin, string detail)
    {
        // N-2 read "Version 'N-2' of bypass is not published.", as if N-2 were a version to publish.
        await PublishAsync(Bypass("1"));
        var pilots = await CreateGroupAsync("pilots");

        var problem = await RefusedAsync(new CreateRolloutRequest("bypass", "1", Pins: new Dictionary<Guid, string> { [pilots.Id] = pin }));

        Assert.Equal(("pins", detail), (problem.GetProperty("field").GetString(), problem.GetProperty("detail").GetString()));
    }

    [Theory]
    [InlineData("{\"channel\":\"bypass\",\"version\":\"1\",\"days\":\"a week\"}", "days", "days takes a whole number.")]
    [InlineData("{\"channel\":\"bypass\",\"version\":\"1\",\"groupIds\":[\"pilots\"]}", "groupIds[0]", "groupIds[0] takes an id.")]
    [InlineData("{\"channel\":\"bypass\",\"version\":\"1\",\"groupIds\":\"pilots\"}", "groupIds", "groupIds takes a list.")]
    [InlineData("{\"channel\":\"bypass\",\"version\":\"1\",\"pins\":[\"N\"]}", "pins", "pins takes an object.")]
    [InlineData("{\"channel\":\"bypass\",\"version\":1.5}", "version", "version takes a string.")]
    public async Task A_wrongly_typed_field_is_named_with_what_it_takes_in_words(string body, string field, string detail)
    {
        // The detail was System.Text.Json's: "The JSON value could not be converted to System.Nullable`1[System.Int32]."
        var refused = await _admin.PostAsync("rollouts", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal((field, detail), (problem.GetProperty("field").GetString(), problem.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task Only_devices_report_update_events_and_bad_events_are_refused()
    {
        using var device = await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin));
        using var edge = await Enrollee.EnrollEdgeAsync(_portal, await Enrollee.CreateProvisioningKeyAsync(_admin, "edge"));
        using var deviceClient = device.CreateClient(_portal);
        using var edgeClient = edge.CreateClient(_portal);

        Assert.Equal(HttpStatusCode.Forbidden, (await edgeClient.PostAsJsonAsync("device/update-events", new UpdateEventReport("bypass", "1", UpdateEvents.Heartbeat, 0, null), PortalServer.Json)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await deviceClient.PostAsJsonAsync("device/update-events", new UpdateEventReport("bypass", "1", "exploded", 0, null), PortalServer.Json)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await deviceClient.PostAsJsonAsync("device/update-events", new UpdateEventReport("bypass", "1", UpdateEvents.Heartbeat, -1, null), PortalServer.Json)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await deviceClient.PostAsJsonAsync("device/update-events", new UpdateEventReport("bypass", "1", UpdateEvents.Heartbeat, 0, null), PortalServer.Json)).StatusCode);
    }

    [Fact]
    public async Task A_slow_roll_for_chosen_groups_reaches_their_devices_and_leaves_the_rest_on_the_baseline()
    {
        var device = (await CompleteFirstRolloutAsync("1", 3))[0];
        var pilots = await CreateGroupAsync("pilots");
        var others = await CreateGroupAsync("others");
        await PublishAsync(Bypass("2"));

        var unknown = await _admin.PostAsJsonAsync("rollouts", new CreateRolloutRequest("bypass", "2", RolloutPlans.SlowRoll, Days: 1, GroupIds: [Guid.NewGuid()]), PortalServer.Json);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("groupIds", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var rollout = await CreateRolloutAsync(new CreateRolloutRequest("bypass", "2", RolloutPlans.SlowRoll, Days: 1, GroupIds: [pilots.Id]));

        Assert.Equal([pilots.Id], rollout.GroupIds);
        Assert.Equal(10_000, rollout.ShareBasisPoints);
        var updater = NewTufClient();
        await updater.RefreshAsync();
        var descriptor = await DescriptorAsync(updater, device.Response.TenantId);
        var id = device.Response.SubjectId;
        Assert.Equal("2", descriptor.VersionFor(id, [pilots.Id], DateTimeOffset.UtcNow)!.Version);
        Assert.Equal("2", descriptor.VersionFor(id, [others.Id, pilots.Id], DateTimeOffset.UtcNow)!.Version);
        Assert.Equal("1", descriptor.VersionFor(id, [others.Id], DateTimeOffset.UtcNow)!.Version);
        Assert.Equal("1", descriptor.VersionFor(id, [], DateTimeOffset.UtcNow)!.Version);
    }

    [Fact]
    public async Task Updated_devices_whose_tunnels_fail_and_roles_restart_halt_the_rollout_against_the_baseline()
    {
        // Enough devices on each side of a 50% canary for the comparison (6 against 6 at least).
        const int Canary = 5_000;
        var devices = new List<Enrollee>();
        bool InCanary(Enrollee d) => RolloutCohort.Includes(RolloutCohort.Position(d.Response.SubjectId, "bypass/2"), Canary);
        while (devices.Count(InCanary) < 6 || devices.Count(d => !InCanary(d)) < 6)
        {
            devices.Add(await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin)));
        }

        await CreateAndCompleteAsync("1", devices);
        await PublishAsync(Bypass("2"));
        var rollout = await CreateRolloutAsync(new CreateRolloutRequest("bypass", "2", BakeMinutes: 0, MinDevices: 6, CanaryBasisPoints: Canary));
        var canary = devices.Where(InCanary).ToList();
        foreach (var device in canary)
        {
            await ReportAsync(device, new UpdateEventReport("bypass", "2", UpdateEvents.Installed, 0, null));
            await ReportAsync(device, new UpdateEventReport("bypass", "2", UpdateEvents.Heartbeat, 1, null, new Dictionary<string, int> { [AgentRoles.DataPlane] = 1 }, TunnelsOpened: 5, TunnelsFailed: 20));
        }

        foreach (var device in devices.Except(canary))
        {
            await ReportAsync(device, new UpdateEventReport("bypass", "1", UpdateEvents.Heartbeat, 0, null, TunnelsOpened: 25, TunnelsFailed: 0));
        }

        await EvaluateAsync();

        var halted = (await _admin.GetFromJsonAsync<RolloutDto>($"rollouts/{rollout.Id}", PortalServer.Json))!;
        Assert.Equal("halted", halted.Status);
        Assert.Contains("less healthy than the baseline", halted.Reason, StringComparison.Ordinal);
        Assert.Equal(canary.Count, halted.Health!.Restarts);
        Assert.Equal(5L * canary.Count, halted.Health.TunnelsOpened);
        Assert.Equal(20L * canary.Count, halted.Health.TunnelsFailed);
    }

    [Fact]
    public async Task Heartbeats_with_impossible_counts_are_refused()
    {
        using var device = await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin));
        using var client = device.CreateClient(_portal);

        var negativeRole = await client.PostAsJsonAsync("device/update-events", new UpdateEventReport("bypass", "1", UpdateEvents.Heartbeat, 1, null, new Dictionary<string, int> { [AgentRoles.DataPlane] = -1 }), PortalServer.Json);
        var negative = await client.PostAsJsonAsync("device/update-events", new UpdateEventReport("bypass", "1", UpdateEvents.Heartbeat, 0, null, TunnelsFailed: -1), PortalServer.Json);

        Assert.Equal(HttpStatusCode.BadRequest, negativeRole.StatusCode);
        Assert.Contains("roleRestarts", await negativeRole.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, negative.StatusCode);
    }

    // A newer agent, in the very rollout these heartbeats judge, may run a role this portal does not know; refusing
    // its heartbeats would leave the rollout blind to it. Its restarts count in the total, which health reads.
    [Fact]
    public async Task A_heartbeat_naming_a_role_this_portal_does_not_know_is_taken()
    {
        using var device = await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin));
        using var client = device.CreateClient(_portal);

        var heartbeat = await client.PostAsJsonAsync("device/update-events", new UpdateEventReport("bypass", "1", UpdateEvents.Heartbeat, 3, null, new Dictionary<string, int> { [AgentRoles.DataPlane] = 1, ["sensor"] = 2 }), PortalServer.Json);

        Assert.True(heartbeat.StatusCode == HttpStatusCode.NoContent, await heartbeat.Content.ReadAsStringAsync());
        using var scope = _portal.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var stored = await db.Set<UpdateReport>().IgnoreQueryFilters().SingleAsync(r => r.DeviceId == device.Response.SubjectId);
        Assert.Equal(3, stored.Restarts);
        Assert.Equal(new Dictionary<string, int> { [AgentRoles.DataPlane] = 1 }, stored.RoleRestarts);
    }

    private async Task<GroupDto> CreateGroupAsync(string name)
    {
        var response = await _admin.PostAsJsonAsync("groups", new CreateGroupRequest(name), PortalServer.Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<GroupDto>(PortalServer.Json))!;
    }

    private async Task<List<Enrollee>> CompleteFirstRolloutAsync(string version, int deviceCount)
    {
        var devices = new List<Enrollee>();
        for (var i = 0; i < deviceCount; i++)
        {
            devices.Add(await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin)));
        }

        await CreateAndCompleteAsync(version, devices);
        return devices;
    }

    private async Task<RolloutDto> PublishAndCreateAsync(string version)
    {
        await PublishAsync(Bypass(version));
        return await CreateRolloutAsync(new CreateRolloutRequest("bypass", version, BakeMinutes: 0, MinDevices: 3));
    }

    private async Task<RolloutDto> CreateAndCompleteAsync(string version, List<Enrollee> devices)
    {
        var rollout = await PublishAndCreateAsync(version);
        foreach (var device in devices)
        {
            await ReportAsync(device, version, UpdateEvents.Installed);
            await ReportAsync(device, version, UpdateEvents.Heartbeat);
        }

        for (var i = 0; i < 3; i++)
        {
            await EvaluateAsync();
        }

        return (await _admin.GetFromJsonAsync<RolloutDto>($"rollouts/{rollout.Id}", PortalServer.Json))!;
    }

    private Task EvaluateAsync() => _portal.Services.GetRequiredService<RolloutSupervisor>().EvaluateAsync(CancellationToken.None);

    private Task ReportAsync(Enrollee device, string version, string kind, string? detail = null) =>
        ReportAsync(device, new UpdateEventReport("bypass", version, kind, 0, detail));

    private async Task ReportAsync(Enrollee device, UpdateEventReport report)
    {
        using var client = device.CreateClient(_portal);
        var response = await client.PostAsJsonAsync("device/update-events", report, PortalServer.Json);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    private async Task<JsonElement> RefusedAsync(CreateRolloutRequest request)
    {
        var refused = await _admin.PostAsJsonAsync("rollouts", request, PortalServer.Json);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        return JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
    }

    private async Task<RolloutDto> CreateRolloutAsync(CreateRolloutRequest request)
    {
        var response = await _admin.PostAsJsonAsync("rollouts", request, PortalServer.Json);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<RolloutDto>(PortalServer.Json))!;
    }

    private async Task<HttpResponseMessage> PublishAsync(byte[] content) =>
        await _admin.PostAsync("content/bypass", new ByteArrayContent(content) { Headers = { ContentType = new("application/json") } });

    /// <summary>A device's TUF client of this portal, as the update tests' other classes make it (<see cref="ContentRoleTests.NewClient"/>).</summary>
    private TufUpdater NewTufClient() => ContentRoleTests.NewClient(_portal).Updater;

    private static async Task<RolloutDescriptor> DescriptorAsync(TufUpdater updater, Guid tenantId)
    {
        var target = await updater.GetTargetInfoAsync(RolloutDescriptor.TargetPath(tenantId, "bypass"));
        Assert.NotNull(target);
        return JsonSerializer.Deserialize(await File.ReadAllBytesAsync(await updater.DownloadTargetAsync(target)), UpdatesJsonContext.Default.RolloutDescriptor)!;
    }

    private static byte[] Bypass(string version, string[]? fields = null, params string[][] records)
    {
        fields ??= ["kind", "value", "ports", "note"];
        if (records.Length == 0)
        {
            records = [["domain", "*.teams.microsoft.com", "3478", "Teams media"]];
        }

        var json = JsonSerializer.Serialize(new { channel = "bypass", schemaVersion = 1, version, fields, records });
        return Encoding.UTF8.GetBytes(json);
    }
}
