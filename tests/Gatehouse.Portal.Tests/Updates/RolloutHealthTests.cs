using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tenants;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Portal.Updates;
using Gatehouse.Rollouts.Health;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Updates;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Portal.Tests.Updates;

/// <summary>
/// What a rollout's reports add up to, summed by the database (./test.sh runs this on SQLite and on
/// PostgreSQL): one case per way a device can stand in a rollout.
/// </summary>
public sealed class RolloutHealthTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Silence = TimeSpan.FromMinutes(30);

    private readonly List<UpdateReport> _reports = [];
    private PortalServer _portal = null!;
    private Rollout _rollout = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalServer.StartAsync();
        using var admin = await _portal.SignInAsync();
        await using var scope = _portal.Services.CreateAsyncScope();
        var tenant = await scope.ServiceProvider.GetRequiredService<PortalDbContext>().Set<Tenant>().Select(t => t.Id).FirstAsync();
        _rollout = new Rollout { Id = Guid.NewGuid(), TenantId = tenant, Channel = "bypass", Version = "2", Plan = "fast", Status = "running", CreatedAt = Start };
    }

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Fact]
    public async Task A_device_that_installed_and_reported_since_counts_as_reporting_with_every_report_summed()
    {
        var device = Guid.NewGuid();
        Report(device, "2", UpdateEvents.Installed, minutes: 1);
        Report(device, "2", UpdateEvents.Heartbeat, minutes: 5, restarts: 1, opened: 10, failed: 2);
        Report(device, "2", UpdateEvents.Committed, minutes: 6);
        Report(device, "2", UpdateEvents.Heartbeat, minutes: 9, restarts: 2, opened: 7, failed: 1);

        var (judged, shown) = await ComputeAsync(now: Start.AddMinutes(10));

        Assert.Equal((1, 0, 1, 1, 0, 0), (shown.InstallAttempts, shown.InstallFailures, shown.Updated, shown.Reporting, shown.Crashed, shown.Silent));
        Assert.Equal((3, 17L, 3L), (shown.Restarts, shown.TunnelsOpened, shown.TunnelsFailed));
        Assert.Equal([6.0], judged.CandidateMetric);
    }

    [Fact]
    public async Task A_device_silent_since_it_installed_fails_only_after_the_silence_window()
    {
        var device = Guid.NewGuid();
        Report(device, "2", UpdateEvents.Installed, minutes: 1);

        var (_, within) = await ComputeAsync(now: Start.AddMinutes(1) + Silence);
        var (judged, after) = await ComputeAsync(now: Start.AddMinutes(2) + Silence);

        Assert.Equal((1, 0, 0), (within.Updated, within.Reporting, within.Silent));
        Assert.Equal((1, 0, 1), (after.Updated, after.Reporting, after.Silent));
        Assert.Equal(1, judged.Failed);
    }

    [Fact]
    public async Task A_heartbeat_from_before_the_install_does_not_make_a_device_reporting()
    {
        var device = Guid.NewGuid();
        Report(device, "2", UpdateEvents.Heartbeat, minutes: 1, restarts: 4);
        Report(device, "2", UpdateEvents.Installed, minutes: 2);

        var (judged, shown) = await ComputeAsync(now: Start.AddHours(2));

        Assert.Equal((1, 0, 1), (shown.Updated, shown.Reporting, shown.Silent));
        Assert.Equal(0, shown.Restarts);
        Assert.Empty(judged.CandidateMetric);
    }

    [Fact]
    public async Task Failed_installs_reverts_and_the_baseline_are_told_apart()
    {
        var failed = Guid.NewGuid();
        var failedThenInstalled = Guid.NewGuid();
        var reverted = Guid.NewGuid();
        var onBaseline = Guid.NewGuid();
        Report(failed, "2", UpdateEvents.InstallFailed, minutes: 1);
        Report(failed, "2", UpdateEvents.InstallFailed, minutes: 2);
        Report(failedThenInstalled, "2", UpdateEvents.InstallFailed, minutes: 1);
        Report(failedThenInstalled, "2", UpdateEvents.Installed, minutes: 3);
        Report(failedThenInstalled, "2", UpdateEvents.Heartbeat, minutes: 4);
        Report(reverted, "2", UpdateEvents.Installed, minutes: 1);
        Report(reverted, "2", UpdateEvents.Reverted, minutes: 2);

        // The baseline is every other version's heartbeats, per device; other events of it do not count.
        Report(onBaseline, "1", UpdateEvents.Heartbeat, minutes: 1, restarts: 1, failed: 3);
        Report(onBaseline, "0", UpdateEvents.Heartbeat, minutes: 2, restarts: 2);
        Report(onBaseline, "1", UpdateEvents.Reverted, minutes: 3, restarts: 50);
        Report(reverted, "1", UpdateEvents.Heartbeat, minutes: 5, failed: 1);

        var (judged, shown) = await ComputeAsync(now: Start.AddMinutes(10));

        Assert.Equal((3, 1), (shown.InstallAttempts, shown.InstallFailures));
        Assert.Equal((2, 2, 1, 0), (shown.Updated, shown.Reporting, shown.Crashed, shown.Silent));
        Assert.Equal([1.0, 6.0], judged.BaselineMetric.Order());
    }

    [Fact]
    public async Task Reports_from_before_the_rollout_or_of_another_channel_are_left_out()
    {
        var device = Guid.NewGuid();
        Report(device, "2", UpdateEvents.Installed, minutes: -5);
        Report(device, "2", UpdateEvents.InstallFailed, minutes: 1, channel: "agent");
        Report(device, "1", UpdateEvents.Heartbeat, minutes: -1, restarts: 9);

        var (judged, shown) = await ComputeAsync(now: Start.AddMinutes(10));

        Assert.Equal((0, 0, 0), (shown.InstallAttempts, shown.Updated, shown.Reporting));
        Assert.Empty(judged.BaselineMetric);
    }

    private void Report(Guid device, string version, string kind, int minutes, int restarts = 0, int opened = 0, int failed = 0, string channel = "bypass") =>
        _reports.Add(new UpdateReport
        {
            Id = Guid.NewGuid(),
            TenantId = _rollout.TenantId,
            DeviceId = device,
            Channel = channel,
            Version = version,
            Event = kind,
            Restarts = restarts,
            TunnelsOpened = opened,
            TunnelsFailed = failed,
            At = Start.AddMinutes(minutes),
        });

    private async Task<(StageHealth Judged, RolloutHealthDto Shown)> ComputeAsync(DateTimeOffset now)
    {
        await using var scope = _portal.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        if (_reports.Count > 0)
        {
            db.Set<UpdateReport>().AddRange(_reports);
            await db.SaveChangesAsync();
            _reports.Clear();
        }

        return await RolloutHealth.ComputeAsync(db, _rollout, now, Silence, CancellationToken.None);
    }
}
