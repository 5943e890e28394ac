using Gatehouse.Portal.Storage;
using Gatehouse.Rollouts.Health;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Updates;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Updates;

/// <summary>
/// Sums up what a rollout's devices reported since it started: the <see cref="StageHealth"/> its
/// controller judges. A device that installed the version and has said nothing for the silence
/// window counts as failed. The per-device metric compared with the baseline is restarts (of
/// every role) plus flows no edge answered.
/// </summary>
internal static class RolloutHealth
{
    /// <returns>What the controller judges, and what the rollout shows admins.</returns>
    public static async Task<(StageHealth Judged, RolloutHealthDto Shown)> ComputeAsync(PortalDbContext db, Rollout rollout, DateTimeOffset now, TimeSpan silenceWindow, CancellationToken ct)
    {
        var reports = await db.Set<UpdateReport>().IgnoreQueryFilters().AsNoTracking()
            .Where(r => r.TenantId == rollout.TenantId && r.Channel == rollout.Channel && r.At >= rollout.CreatedAt)
            .Select(r => new { r.DeviceId, r.Version, r.Event, r.Restarts, r.TunnelsOpened, r.TunnelsFailed, r.At })
            .ToListAsync(ct);

        var devices = new Dictionary<Guid, DeviceSummary>();
        var baseline = new Dictionary<Guid, double>();
        foreach (var report in reports.OrderBy(r => r.At))
        {
            if (report.Version != rollout.Version)
            {
                if (report.Event == UpdateEvents.Heartbeat)
                {
                    baseline[report.DeviceId] = baseline.GetValueOrDefault(report.DeviceId) + report.Restarts + report.TunnelsFailed;
                }

                continue;
            }

            if (!devices.TryGetValue(report.DeviceId, out var device))
            {
                devices[report.DeviceId] = device = new DeviceSummary();
            }

            switch (report.Event)
            {
                case UpdateEvents.Installed:
                    device.InstalledAt ??= report.At;
                    break;
                case UpdateEvents.InstallFailed:
                    device.InstallFailed = true;
                    break;
                case UpdateEvents.Reverted:
                    device.Reverted = true;
                    device.Reported = true;
                    break;
                default:
                    device.Reported |= device.InstalledAt is not null;
                    device.Restarts += report.Restarts;
                    device.TunnelsOpened += report.TunnelsOpened;
                    device.TunnelsFailed += report.TunnelsFailed;
                    break;
            }
        }

        int attempts = 0, failures = 0, updated = 0, reporting = 0, crashed = 0, silent = 0, restarts = 0;
        long tunnelsOpened = 0, tunnelsFailed = 0;
        var candidate = new List<double>();
        foreach (var device in devices.Values)
        {
            if (device.InstalledAt is null && !device.InstallFailed)
            {
                continue;
            }

            attempts++;
            if (device.InstallFailed && device.InstalledAt is null)
            {
                failures++;
                continue;
            }

            updated++;
            if (device.Reverted)
            {
                crashed++;
                reporting++;
            }
            else if (device.Reported)
            {
                reporting++;
                restarts += device.Restarts;
                tunnelsOpened += device.TunnelsOpened;
                tunnelsFailed += device.TunnelsFailed;
                candidate.Add(device.Restarts + device.TunnelsFailed);
            }
            else if (now - device.InstalledAt > silenceWindow)
            {
                silent++;
            }
        }

        return (
            new StageHealth(attempts, failures, updated, reporting, crashed, silent, candidate, [.. baseline.Values]),
            new RolloutHealthDto(attempts, failures, updated, reporting, crashed, silent, restarts, tunnelsOpened, tunnelsFailed));
    }

    private sealed class DeviceSummary
    {
        public DateTimeOffset? InstalledAt { get; set; }

        public bool InstallFailed { get; set; }

        public bool Reverted { get; set; }

        public bool Reported { get; set; }

        public int Restarts { get; set; }

        public long TunnelsOpened { get; set; }

        public long TunnelsFailed { get; set; }
    }
}
