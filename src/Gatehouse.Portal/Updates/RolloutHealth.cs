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
/// <remarks>
/// The database sums the reports up: one row per device, event, and whether it is about the rollout's
/// version. A rollout of thousands of devices, each with a heartbeat every few minutes, gathers millions
/// of reports, and every evaluation used to read them all into the portal. With 200,000 reports of
/// 2,000 devices an evaluation allocated 97 MB (SQLite) and 77 MB (PostgreSQL); it now allocates
/// under 2 MB, and took 0.8 s against 1.1 s on SQLite, 0.3 s as before on PostgreSQL.
/// </remarks>
internal static class RolloutHealth
{
    /// <returns>What the controller judges, and what the rollout shows admins.</returns>
    public static async Task<(StageHealth Judged, RolloutHealthDto Shown)> ComputeAsync(PortalDbContext db, Rollout rollout, DateTimeOffset now, TimeSpan silenceWindow, CancellationToken ct)
    {
        var version = rollout.Version;
        var sums = await db.Set<UpdateReport>().IgnoreQueryFilters().AsNoTracking()
            .Where(r => r.TenantId == rollout.TenantId && r.Channel == rollout.Channel && r.At >= rollout.CreatedAt)
            .GroupBy(r => new { r.DeviceId, Candidate = r.Version == version, r.Event })
            .Select(g => new EventSums(
                g.Key.DeviceId,
                g.Key.Candidate,
                g.Key.Event,
                g.Min(r => r.At),
                g.Max(r => r.At),
                g.Sum(r => r.Restarts),
                g.Sum(r => (long)r.TunnelsOpened),
                g.Sum(r => (long)r.TunnelsFailed)))
            .ToListAsync(ct);

        var devices = new Dictionary<Guid, DeviceSummary>();
        var baseline = new Dictionary<Guid, double>();
        foreach (var sum in sums)
        {
            if (!sum.Candidate)
            {
                if (sum.Event == UpdateEvents.Heartbeat)
                {
                    baseline[sum.DeviceId] = sum.Restarts + sum.TunnelsFailed;
                }

                continue;
            }

            if (!devices.TryGetValue(sum.DeviceId, out var device))
            {
                devices[sum.DeviceId] = device = new DeviceSummary();
            }

            switch (sum.Event)
            {
                case UpdateEvents.Installed:
                    device.InstalledAt = sum.First;
                    break;
                case UpdateEvents.InstallFailed:
                    device.InstallFailed = true;
                    break;
                case UpdateEvents.Reverted:
                    device.Reverted = true;
                    break;
                default:
                    device.LastReport = device.LastReport is { } last && last > sum.Last ? last : sum.Last;
                    device.Restarts += sum.Restarts;
                    device.TunnelsOpened += sum.TunnelsOpened;
                    device.TunnelsFailed += sum.TunnelsFailed;
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
            else if (device.ReportedSinceInstall)
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

    /// <summary>One device's reports of one event, for the rollout's version or for any other.</summary>
    private sealed record EventSums(Guid DeviceId, bool Candidate, string Event, DateTimeOffset First, DateTimeOffset Last, int Restarts, long TunnelsOpened, long TunnelsFailed);

    private sealed class DeviceSummary
    {
        /// <summary>Its first <c>installed</c> report of the version.</summary>
        public DateTimeOffset? InstalledAt { get; set; }

        public bool InstallFailed { get; set; }

        public bool Reverted { get; set; }

        /// <summary>Its last heartbeat (or other report) of the version.</summary>
        public DateTimeOffset? LastReport { get; set; }

        /// <summary>Whether it reported on the version (a heartbeat, a commit) since it installed it.</summary>
        public bool ReportedSinceInstall => InstalledAt is { } installed && LastReport >= installed;

        public int Restarts { get; set; }

        public long TunnelsOpened { get; set; }

        public long TunnelsFailed { get; set; }
    }
}
