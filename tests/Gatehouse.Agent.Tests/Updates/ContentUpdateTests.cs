using System.Net.Http.Json;
using Gatehouse.Agent.Updates;
using Gatehouse.Testing.Portal;
using Gatehouse.Wire.Agent;
using Gatehouse.Wire.Api;

namespace Gatehouse.Agent.Tests.Updates;

/// <summary>
/// Pushed content end to end: a real portal publishes and rolls out bypass content, the data
/// plane's updater verifies it through TUF, tries it, commits it and puts it to work; content
/// with one field too many, forced past the portal's check, is refused at load on the device,
/// the last good content stays in force, and the rollout halts on the device's report.
/// </summary>
public sealed class ContentUpdateTests
{
    private static readonly ContentUpdaterOptions Fast = new() { PollInterval = TimeSpan.FromMilliseconds(300), HealthWindow = TimeSpan.Zero };

    // Trials that must outlast the test: an hour's health window.
    private static readonly ContentUpdaterOptions Slow = Fast with { HealthWindow = TimeSpan.FromHours(1) };

    [Fact]
    public async Task Bypass_content_rolled_out_by_the_portal_is_verified_tried_committed_and_sends_its_destinations_direct()
    {
        await using var fixture = await AgentFixture.StartAsync(portal => portal.RolloutEvaluationSeconds = 1); // rollouts judged every second
        await fixture.EnrollDeviceAsync();

        // The previous data plane left its run marker behind, as a crash or a kill does: the first heartbeat reports a restart.
        Directory.CreateDirectory(Path.Combine(fixture.StateDirectory, "updates"));
        await File.WriteAllTextAsync(Path.Combine(fixture.StateDirectory, "updates", "dataplane.running"), "4242");
        await using var agent = fixture.StartDataPlane(o => o with { ContentUpdates = Fast });
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(agent.Status.State == AgentStates.Connected), "the agent to connect to the edge");
        var blocked = await AgentFixture.CurlAsync("-i", "-x", $"http://{agent.ProxyAddress}", $"http://{AgentFixture.BlockedHost}/");
        Assert.StartsWith("HTTP/1.1 403", blocked.Output, StringComparison.Ordinal);
        Assert.Equal((1L, 0L), (agent.Status.TunnelsOpened, agent.Status.TunnelsFailed)); // the edge answered: the tunnel works

        await ContentPush.PublishAsync(fixture, ContentPush.Bypass("1", ["domain", AgentFixture.BlockedHost, "", "sent direct by the test"]));
        var rollout = await RollOutAsync(fixture, "1");
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(agent.Status.Content == "bypass 1 (committed)"), "bypass 1 to be committed", () => agent.Status);
        Assert.Equal(1, (await fixture.Admin.GetFromJsonAsync<RolloutDto>($"rollouts/{rollout.Id}", TestPortal.Json))!.Health!.Restarts);

        // The edge would block it; the bypass list sends it direct instead (where the test name does not resolve).
        var direct = await AgentFixture.CurlAsync("-i", "-x", $"http://{agent.ProxyAddress}", $"http://{AgentFixture.BlockedHost}/");
        Assert.DoesNotContain("HTTP/1.1 403", direct.Output, StringComparison.Ordinal);
        Assert.Contains("bypass list 1: sent direct by the test", direct.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task July_2024_content_forced_past_the_portal_is_refused_at_load_the_last_good_stays_and_the_rollout_halts()
    {
        await using var fixture = await AgentFixture.StartAsync(portal => portal.RolloutEvaluationSeconds = 1); // rollouts judged every second
        await fixture.EnrollDeviceAsync();
        await using var agent = fixture.StartDataPlane(o => o with { ContentUpdates = Fast });
        await ContentPush.PublishAsync(fixture, ContentPush.Bypass("1", ["domain", "media.example", "3478", "media"]));
        await RollOutAsync(fixture, "1");
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(agent.Status.Content == "bypass 1 (committed)"), "bypass 1 to be committed", () => agent.Status);

        // The portal refuses it...
        var refused = await fixture.Admin.PostAsync("content/bypass", ContentPush.Json(ContentPush.OneFieldTooMany("2")));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
        // ...so it is forced in with the content role's key, as a compromised or careless pipeline could.
        ContentPush.ForceIntoRepository(fixture.Portal, "2", ContentPush.OneFieldTooMany("2"));
        var rollout = await RollOutAsync(fixture, "2");

        await AgentFixture.WaitUntilAsync(async () =>
            (await fixture.Admin.GetFromJsonAsync<RolloutDto>($"rollouts/{rollout.Id}", TestPortal.Json))!.Status == "halted", "the rollout of 2 to halt", () => agent.Status);
        var halted = await fixture.Admin.GetFromJsonAsync<RolloutDto>($"rollouts/{rollout.Id}", TestPortal.Json);
        Assert.Contains("1 of 1 updated devices crashed", halted!.Reason, StringComparison.Ordinal);
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(agent.Status.Content == "bypass 1 (committed)"), "the halted rollout to send the device back to 1", () => agent.Status);
    }

    [Fact]
    public async Task Status_says_when_the_version_a_rollout_wants_is_quarantined_here_and_why()
    {
        // It said "content: -" or only the old version, and the rollout's version never came, with no reason given.
        await using var fixture = await AgentFixture.StartAsync();
        await fixture.EnrollDeviceAsync();
        ContentPush.ForceIntoRepository(fixture.Portal, "2", ContentPush.OneFieldTooMany("2"));
        (await fixture.Admin.PostAsJsonAsync("rollouts", new CreateRolloutRequest("bypass", "2", RolloutPlans.SlowRoll, Days: 1, BakeMinutes: 0, MinDevices: 1), TestPortal.Json)).EnsureSuccessStatusCode();

        await using var agent = fixture.StartDataPlane(o => o with { ContentUpdates = Fast });

        await AgentFixture.WaitUntilAsync(() => Task.FromResult(agent.Status.Content?.StartsWith("bypass none (2 quarantined: ", StringComparison.Ordinal) == true), "the status to name the quarantine", () => agent.Status);
        Assert.Contains("fields", agent.Status.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clean_restarts_during_a_trial_do_not_use_up_its_starts()
    {
        // Three reboots inside the health window quarantined good content as if it had crashed the data plane three times.
        await using var fixture = await AgentFixture.StartAsync();
        await PutOnTrialAsync(fixture);

        for (var restart = 1; restart <= 4; restart++)
        {
            await using var again = fixture.StartDataPlane(o => o with { ContentUpdates = Slow });
            Assert.Equal("bypass 7 (trial)", again.Status.Content);
        }
    }

    [Fact]
    public async Task Starts_that_fail_for_a_busy_port_during_a_trial_do_not_use_up_its_starts()
    {
        // Another program on the proxy's port for a while made three failed starts, and good content was quarantined for it.
        await using var fixture = await AgentFixture.StartAsync();
        await PutOnTrialAsync(fixture);

        var squatter = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        squatter.Start();
        try
        {
            for (var attempt = 1; attempt <= 4; attempt++)
            {
                Assert.ThrowsAny<Exception>(() => fixture.StartDataPlane(o => o with { ContentUpdates = Slow, ProxyListen = squatter.LocalEndpoint.ToString()! }));
            }
        }
        finally
        {
            squatter.Stop();
        }

        await using var after = fixture.StartDataPlane(o => o with { ContentUpdates = Slow });
        Assert.Equal("bypass 7 (trial)", after.Status.Content);
    }

    /// <summary>Enrolls the device and rolls bypass 7 out to it, until a data plane has it on trial (and stops).</summary>
    private static async Task PutOnTrialAsync(AgentFixture fixture)
    {
        await fixture.EnrollDeviceAsync();
        await ContentPush.PublishAsync(fixture, ContentPush.Bypass("7", ["domain", "media.example", "3478", "media"]));
        (await fixture.Admin.PostAsJsonAsync("rollouts", new CreateRolloutRequest("bypass", "7", RolloutPlans.SlowRoll, Days: 1, BakeMinutes: 0, MinDevices: 1), TestPortal.Json)).EnsureSuccessStatusCode();
        await using var first = fixture.StartDataPlane(o => o with { ContentUpdates = Slow });
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(first.Status.Content == "bypass 7 (trial)"), "bypass 7 to be on trial", () => first.Status);
    }

    // A one-day slow roll takes every device at once; one reporting device is enough to judge.
    private static async Task<RolloutDto> RollOutAsync(AgentFixture fixture, string version)
    {
        var response = await fixture.Admin.PostAsJsonAsync("rollouts", new CreateRolloutRequest("bypass", version, RolloutPlans.SlowRoll, Days: 1, BakeMinutes: 0, MinDevices: 1), TestPortal.Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var rollout = (await response.Content.ReadFromJsonAsync<RolloutDto>(TestPortal.Json))!;
        if (version == "1")
        {
            await AgentFixture.WaitUntilAsync(async () =>
                (await fixture.Admin.GetFromJsonAsync<RolloutDto>($"rollouts/{rollout.Id}", TestPortal.Json))!.Status == "completed", "the rollout of 1 to complete");
        }

        return rollout;
    }
}
