using System.Net.Http.Json;
using Gatehouse.Agent.Tests.Updates;
using Gatehouse.Testing.Namespaces;
using Gatehouse.Testing.Portal;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Updates;

namespace Gatehouse.Agent.Tests.Namespaces;

/// <summary>
/// Staged rollouts with real agents, each in a network namespace of its own: a bad content push
/// reaches the canary ring and no further, the canary devices go back to the last good content
/// by themselves, and the rollout halts.
/// </summary>
public sealed class ContentRolloutTests
{
    [NamespaceFact]
    public async Task A_bad_content_push_never_moves_past_the_canary_ring_and_the_canary_devices_roll_back()
    {
        await using var fleet = await AgentFleet.StartAsync(3);
        var admin = fleet.Control.Admin;

        // Version 1 goes to everyone and is committed everywhere.
        await ContentPush.PublishAsync(fleet.Control, ContentPush.Bypass("1", ["domain", "media.example", "3478", "media"]));
        var first = await CreateAsync(admin, new CreateRolloutRequest("bypass", "1", RolloutPlans.SlowRoll, Days: 1, BakeMinutes: 0, MinDevices: 3));
        await WaitForAllAsync(fleet, "bypass 1 (committed)");
        await AgentFixture.WaitUntilAsync(async () => (await RolloutAsync(admin, first.Id)).Status == "completed", "the rollout of 1 to complete");

        // Version 2 has one field more than the agents read; it is forced past the portal's check.
        ContentPush.ForceIntoRepository(fleet.Control.Portal, "2", ContentPush.OneFieldTooMany("2"));

        // The canary takes the two devices with the lowest cohort positions for this release, not the third.
        var positions = fleet.Agents.ToDictionary(a => a, a => RolloutCohort.Position(a.DeviceId, "bypass/2"));
        var ordered = positions.OrderBy(p => p.Value).ToList();
        Assert.True(ordered[1].Value < ordered[2].Value, "two devices share a cohort position; run again");
        var canary = ordered.Take(2).Select(p => p.Key).ToList();
        var outside = ordered[2].Key;
        var second = await CreateAsync(admin, new CreateRolloutRequest("bypass", "2", RolloutPlans.Rings, BakeMinutes: 60, MinDevices: 2, CanaryBasisPoints: ordered[1].Value + 1));

        await AgentFixture.WaitUntilAsync(async () => (await RolloutAsync(admin, second.Id)).Status == "halted", "the rollout of 2 to halt",
            () => string.Join("\n---\n", fleet.Agents.Select(a => a.Log)));
        var halted = await RolloutAsync(admin, second.Id);
        Assert.Equal("canary", halted.Stage);
        Assert.Equal(0, halted.ShareBasisPoints);
        Assert.Equal(2, halted.Health!.InstallAttempts);
        Assert.Equal(2, halted.Health.Crashed);
        // Halted, the rollout sends every device back to 1: the canary's status stops naming 2's quarantine at its next poll.
        await WaitForAllAsync(fleet, "bypass 1 (committed)");

        // The device outside the canary never received version 2; the canary devices refused and quarantined it.
        Assert.DoesNotContain(Directory.EnumerateFiles(Path.Combine(outside.StateDirectory, "updates", "bypass")), f => Path.GetFileName(f).StartsWith("2-", StringComparison.Ordinal));
        Assert.DoesNotContain("\"2\"", await File.ReadAllTextAsync(Path.Combine(outside.StateDirectory, "updates", "bypass", "state.json")), StringComparison.Ordinal);
        foreach (var agent in canary)
        {
            Assert.Contains("declares 5 fields", await File.ReadAllTextAsync(Path.Combine(agent.StateDirectory, "updates", "bypass", "state.json")), StringComparison.Ordinal);
        }
    }

    private static async Task WaitForAllAsync(AgentFleet fleet, string content) =>
        await AgentFixture.WaitUntilAsync(
            async () => (await Task.WhenAll(fleet.Agents.Select(a => a.StatusAsync()))).All(s => s?.Content == content),
            $"every agent to run {content}",
            () => string.Join("\n---\n", fleet.Agents.Select(a => $"{a.StatusAsync().GetAwaiter().GetResult()}\n{a.Log}")));

    private static async Task<RolloutDto> CreateAsync(HttpClient admin, CreateRolloutRequest request)
    {
        var response = await admin.PostAsJsonAsync("rollouts", request, TestPortal.Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<RolloutDto>(TestPortal.Json))!;
    }

    private static async Task<RolloutDto> RolloutAsync(HttpClient admin, Guid id) =>
        (await admin.GetFromJsonAsync<RolloutDto>($"rollouts/{id}", TestPortal.Json))!;
}
