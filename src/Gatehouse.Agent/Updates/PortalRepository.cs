using System.Net.Http.Json;
using System.Text.Json;
using Gatehouse.Tuf.Client;
using Gatehouse.Wire;
using Gatehouse.Wire.Updates;

namespace Gatehouse.Agent.Updates;

/// <summary>The portal's signed update repository as the agent's updaters reach it, and the events they report.</summary>
internal static class PortalRepository
{
    /// <summary>
    /// A TUF client for the portal's <c>/tuf/</c>, keeping its trusted metadata in <paramref name="directory"/>.
    /// The first root comes over the portal connection pinned at enrollment; every later one must be signed by it.
    /// </summary>
    public static async Task<TufUpdater> OpenAsync(HttpClient http, Uri portal, string directory, TimeProvider time, CancellationToken ct)
    {
        var metadata = Path.Combine(directory, "metadata");
        if (!File.Exists(Path.Combine(metadata, "root.json")))
        {
            var root = await http.GetByteArrayAsync(new Uri(portal, "/tuf/metadata/1.root.json"), ct);
            TufUpdater.Initialize(metadata, root);
        }

        return new TufUpdater(
            new UpdaterOptions
            {
                MetadataDirectory = metadata,
                MetadataBaseUrl = new Uri(portal, "/tuf/metadata/"),
                TargetBaseUrl = new Uri(portal, "/tuf/targets/"),
                TargetDirectory = Path.Combine(directory, "targets"),
            },
            new HttpRemoteFiles(http),
            time);
    }

    /// <summary>The tenant's rollout descriptor for <paramref name="channel"/>, verified; null when there is none.</summary>
    public static async Task<RolloutDescriptor?> DescriptorAsync(TufUpdater updater, Guid tenantId, string channel, CancellationToken ct)
    {
        var target = await updater.GetTargetInfoAsync(RolloutDescriptor.TargetPath(tenantId, channel), ct);
        if (target is null)
        {
            return null;
        }

        var path = updater.FindCachedTarget(target) ?? await updater.DownloadTargetAsync(target, ct);
        return JsonSerializer.Deserialize(await File.ReadAllBytesAsync(path, ct), UpdatesJsonContext.Default.RolloutDescriptor);
    }

    /// <summary>Downloads (or finds cached) and verifies the artifact <paramref name="wanted"/> names; returns its bytes and SHA-256.</summary>
    public static async Task<(byte[] Bytes, string Sha256)> FetchAsync(TufUpdater updater, ChannelVersion wanted, CancellationToken ct)
    {
        var target = await updater.GetTargetInfoAsync(wanted.Target, ct)
            ?? throw new Tuf.TufException(Tuf.TufFailure.UnknownTarget, $"no trusted targets metadata lists {wanted.Target}");
        var path = updater.FindCachedTarget(target) ?? await updater.DownloadTargetAsync(target, ct);
        return (await File.ReadAllBytesAsync(path, ct), target.Hashes["sha256"]);
    }
}

/// <summary>Update events waiting for the portal: kept in memory (at most 200) until it takes them.</summary>
internal sealed class UpdateEventQueue
{
    private const int MaxPendingEvents = 200;

    private readonly List<UpdateEventReport> _pending = [];

    public void Add(string channel, string version, string kind, string? detail, HeartbeatHealth? health = null)
    {
        lock (_pending)
        {
            if (_pending.Count >= MaxPendingEvents)
            {
                _pending.RemoveAt(0);
            }

            _pending.Add(new UpdateEventReport(
                channel,
                version,
                kind,
                health?.Restarts ?? 0,
                detail?.Length > 1000 ? detail[..1000] : detail,
                health?.RoleRestarts,
                health?.TunnelsOpened ?? 0,
                health?.TunnelsFailed ?? 0));
        }
    }

    /// <summary>Sends what waits, oldest first; stops at the first answer that says to try later (5xx).</summary>
    public async Task SendAsync(HttpClient http, CancellationToken ct)
    {
        while (true)
        {
            UpdateEventReport next;
            lock (_pending)
            {
                if (_pending.Count == 0)
                {
                    return;
                }

                next = _pending[0];
            }

            using var response = await http.PostAsJsonAsync($"{WireVersion.ApiPrefix}/device/update-events", next, UpdatesJsonContext.Default.UpdateEventReport, ct);
            if (!response.IsSuccessStatusCode && (int)response.StatusCode >= 500)
            {
                return;
            }

            lock (_pending)
            {
                _pending.Remove(next);
            }
        }
    }
}
