using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gatehouse.Agent.Updates;
using Gatehouse.Testing.Portal;
using Gatehouse.Tuf.Keys;
using Gatehouse.Tuf.Metadata;
using Gatehouse.Tuf.Repository;
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

    [Fact]
    public async Task Bypass_content_rolled_out_by_the_portal_is_verified_tried_committed_and_sends_its_destinations_direct()
    {
        await using var fixture = await AgentFixture.StartAsync(portal => portal.RolloutEvaluationSeconds = 1); // rollouts judged every second
        await fixture.EnrollDeviceAsync();
        await using var agent = fixture.StartDataPlane(o => o with { ContentUpdates = Fast });
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(agent.Status.State == AgentStates.Connected), "the agent to connect to the edge");
        var blocked = await AgentFixture.CurlAsync("-i", "-x", $"http://{agent.ProxyAddress}", $"http://{AgentFixture.BlockedHost}/");
        Assert.StartsWith("HTTP/1.1 403", blocked.Output, StringComparison.Ordinal);

        await PublishAsync(fixture, Bypass("1", ["domain", AgentFixture.BlockedHost, "", "sent direct by the test"]));
        await RollOutAsync(fixture, "1");
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(agent.Status.Content == "bypass 1 (committed)"), "bypass 1 to be committed", () => agent.Status);

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
        await PublishAsync(fixture, Bypass("1", ["domain", "media.example", "3478", "media"]));
        await RollOutAsync(fixture, "1");
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(agent.Status.Content == "bypass 1 (committed)"), "bypass 1 to be committed", () => agent.Status);

        // The portal refuses it...
        var refused = await fixture.Admin.PostAsync("content/bypass", Json(OneFieldTooMany("2")));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
        // ...so it is forced in with the content role's key, as a compromised or careless pipeline could.
        ForceIntoRepository(fixture.Portal, "2", OneFieldTooMany("2"));
        var rollout = await RollOutAsync(fixture, "2");

        await AgentFixture.WaitUntilAsync(async () =>
            (await fixture.Admin.GetFromJsonAsync<RolloutDto>($"rollouts/{rollout.Id}", TestPortal.Json))!.Status == "halted", "the rollout of 2 to halt", () => agent.Status);
        var halted = await fixture.Admin.GetFromJsonAsync<RolloutDto>($"rollouts/{rollout.Id}", TestPortal.Json);
        Assert.Contains("1 of 1 updated devices crashed", halted!.Reason, StringComparison.Ordinal);
        Assert.Equal("bypass 1 (committed)", agent.Status.Content);
    }

    private static async Task PublishAsync(AgentFixture fixture, byte[] content)
    {
        var response = await fixture.Admin.PostAsync("content/bypass", Json(content));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
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

    private static void ForceIntoRepository(TestPortal portal, string version, byte[] content)
    {
        var updates = Path.Combine(portal.DataDirectory, "updates");
        var repository = TufRepository.Open(Path.Combine(updates, "repository"));
        using var contentKey = TufSigner.FromPemFile(Path.Combine(updates, "online-keys", "content.pem"));
        using var snapshotKey = TufSigner.FromPemFile(Path.Combine(updates, "online-keys", "snapshot.pem"));
        using var timestampKey = TufSigner.FromPemFile(Path.Combine(updates, "online-keys", "timestamp.pem"));
        var path = $"content/bypass/{version}.json";
        var role = repository.Targets("content")!;
        var target = TargetFile.Describe(path, content, new System.Text.Json.Nodes.JsonObject { ["channel"] = "bypass", ["version"] = version, ["records"] = 1L });
        repository.SignTargets("content", new TargetsMetadata(0, DateTimeOffset.UtcNow.AddDays(1), new Dictionary<string, TargetFile>(role.Targets) { [path] = target }), [contentKey]);
        repository.StoreArtifact(path, content);
        repository.SignSnapshot([snapshotKey], DateTimeOffset.UtcNow.AddDays(1));
        repository.SignTimestamp([timestampKey], DateTimeOffset.UtcNow.AddDays(1));
    }

    private static ByteArrayContent Json(byte[] content) => new(content) { Headers = { ContentType = new("application/json") } };

    private static byte[] Bypass(string version, string[] record) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
    {
        channel = "bypass", schemaVersion = 1, version, fields = new[] { "kind", "value", "ports", "note" }, records = new[] { record },
    }));

    private static byte[] OneFieldTooMany(string version) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
    {
        channel = "bypass", schemaVersion = 1, version, fields = new[] { "kind", "value", "ports", "note", "extra" }, records = new[] { new[] { "domain", "media.example", "3478", "media", "21st field" } },
    }));
}
