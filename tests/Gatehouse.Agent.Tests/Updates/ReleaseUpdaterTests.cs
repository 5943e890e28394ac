using System.Formats.Tar;
using System.IO.Compression;
using System.Net.Http.Json;
using System.Text;
using Gatehouse.Agent.Updates;
using Gatehouse.Testing.Portal;
using Gatehouse.Tuf.Keys;
using Gatehouse.Tuf.Metadata;
using Gatehouse.Tuf.Repository;
using Gatehouse.Updates.Releases;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Updates;
using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Updates;
using Gatehouse.Wire.Agent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Agent.Tests.Updates;

/// <summary>
/// The service's updater for agent builds against a real portal: a build signed offline into the
/// releases role and rolled out is downloaded, verified, installed as the trial build and the
/// service asks to restart; when <c>launch</c> later quarantines it (it crash-looped), the old
/// build reports it and the rollout halts.
/// </summary>
public sealed class ReleaseUpdaterTests
{
    [Fact]
    public async Task A_rolled_out_build_is_installed_for_the_next_start_and_its_quarantine_halts_the_rollout()
    {
        await using var fixture = await AgentFixture.StartAsync(portal => portal.RolloutEvaluationSeconds = 1);
        await fixture.EnrollDeviceAsync();
        SignRelease(fixture.Portal, "2.0.0", Archive("#!/bin/sh\nexit 7\n"));
        var response = await fixture.Admin.PostAsJsonAsync("rollouts", new CreateRolloutRequest(AgentReleases.Channel, "2.0.0", RolloutPlans.SlowRoll, Days: 1, BakeMinutes: 0, MinDevices: 1), TestPortal.Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var rollout = (await response.Content.ReadFromJsonAsync<RolloutDto>(TestPortal.Json))!;
        var install = Path.Combine(fixture.StateDirectory, "..", "install");
        var restarts = 0;

        await using (var updater = NewUpdater(fixture, install, () => restarts++))
        {
            Assert.True(await updater.RunOnceAsync(CancellationToken.None));
        }

        var releases = new ReleaseSlots(install);
        Assert.Equal("2.0.0", releases.State.Trial!.Entry.Version);
        Assert.True(File.Exists(Path.Combine(install, "versions", "2.0.0", ReleaseSlots.ExecutableName)));
        Assert.Equal(1, restarts);

        // launch runs the trial build three times; it crashes each time; the fourth start runs the old build.
        for (var start = 0; start < 4; start++)
        {
            releases.ChooseForStart();
        }

        Assert.True(releases.State.Quarantined.ContainsKey("2.0.0"));
        await using (var restarted = NewUpdater(fixture, install, () => restarts++))
        {
            Assert.False(await restarted.RunOnceAsync(CancellationToken.None));
        }

        await AgentFixture.WaitUntilAsync(async () =>
            (await fixture.Admin.GetFromJsonAsync<RolloutDto>($"rollouts/{rollout.Id}", TestPortal.Json))!.Status == "halted", "the agent rollout to halt");
        Assert.Equal(1, restarts);
    }

    [Fact]
    public async Task Heartbeats_carry_the_restarts_of_each_role_and_the_tunnels_results_since_the_last_one()
    {
        await using var fixture = await AgentFixture.StartAsync();
        await fixture.EnrollDeviceAsync();
        var install = Path.Combine(fixture.StateDirectory, "..", "install");

        // The previous service was killed (its run marker is left); the watchdog restarted the data plane twice.
        Directory.CreateDirectory(Path.Combine(fixture.StateDirectory, "updates"));
        await File.WriteAllTextAsync(Path.Combine(fixture.StateDirectory, "updates", "service.running"), "4242");
        var status = new AgentStatus(AgentStates.Connected, "Connected.", RoleRestarts: 2, TunnelsOpened: 40, TunnelsFailed: 3);
        await using (var updater = NewUpdater(fixture, install, () => { }, _ => Task.FromResult(status)))
        {
            await updater.RunOnceAsync(CancellationToken.None);
            status = status with { TunnelsOpened = 50 };
            await updater.RunOnceAsync(CancellationToken.None);

            // The data plane restarted: its counters start from zero again.
            status = status with { RoleRestarts = 3, TunnelsOpened = 4, TunnelsFailed = 1 };
            await updater.RunOnceAsync(CancellationToken.None);
        }

        await using var scope = fixture.Portal.Services.CreateAsyncScope();
        var heartbeats = await scope.ServiceProvider.GetRequiredService<PortalDbContext>().Set<UpdateReport>().IgnoreQueryFilters()
            .Where(r => r.Channel == AgentReleases.Channel && r.Event == UpdateEvents.Heartbeat).OrderBy(r => r.Id).ToListAsync();
        Assert.Collection(
            heartbeats,
            first =>
            {
                Assert.Equal(3, first.Restarts);
                Assert.Equal(new Dictionary<string, int> { [AgentRoles.Service] = 1, [AgentRoles.DataPlane] = 2 }, first.RoleRestarts);
                Assert.Equal((40, 3), (first.TunnelsOpened, first.TunnelsFailed));
            },
            second =>
            {
                Assert.Equal(0, second.Restarts);
                Assert.Null(second.RoleRestarts);
                Assert.Equal((10, 0), (second.TunnelsOpened, second.TunnelsFailed));
            },
            third =>
            {
                Assert.Equal(new Dictionary<string, int> { [AgentRoles.DataPlane] = 1 }, third.RoleRestarts);
                Assert.Equal((4, 1), (third.TunnelsOpened, third.TunnelsFailed));
            });

        // A clean stop removes the marker: the next service start is not a restart.
        Assert.False(File.Exists(Path.Combine(fixture.StateDirectory, "updates", "service.running")));
    }

    private static ReleaseUpdater NewUpdater(AgentFixture fixture, string install, Action restart, Func<CancellationToken, Task<AgentStatus>>? status = null) => new(
        fixture.StateDirectory, install, AgentPaths.DeviceStore(fixture.StateDirectory), "1.0.0", () => [],
        status ?? (_ => Task.FromResult(new AgentStatus(AgentStates.Connected, "Connected."))), restart,
        TimeSpan.FromMinutes(5), TimeProvider.System, NullLogger.Instance);

    // What a release engineer does with `gatehouse release add --role releases` and the offline key.
    private static void SignRelease(TestPortal portal, string version, byte[] archive)
    {
        var updates = Path.Combine(portal.DataDirectory, "updates");
        var repository = TufRepository.Open(Path.Combine(updates, "repository"));
        using var key = TufSigner.FromPemFile(Path.Combine(updates, "offline-keys", "releases.pem"));
        var path = AgentReleases.TargetPath(version);
        var role = repository.Targets("releases")!;
        repository.SignTargets("releases", new TargetsMetadata(0, DateTimeOffset.UtcNow.AddDays(30), new Dictionary<string, TargetFile>(role.Targets) { [path] = TargetFile.Describe(path, archive) }), [key]);
        repository.StoreArtifact(path, archive);
    }

    private static byte[] Archive(string script)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, ReleaseSlots.ExecutableName)
            {
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
                DataStream = new MemoryStream(Encoding.ASCII.GetBytes(script)),
            });
        }

        return output.ToArray();
    }
}
