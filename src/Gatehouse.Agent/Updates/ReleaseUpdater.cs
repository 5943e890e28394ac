using System.Text.Json;
using Gatehouse.Node.Config;
using Gatehouse.Node.Credentials;
using Gatehouse.Tuf;
using Gatehouse.Updates;
using Gatehouse.Updates.Releases;
using Gatehouse.Wire.Updates;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Agent.Updates;

/// <summary>
/// The updater role for agent builds, in the service (when it runs under <c>gatehouse-agent launch</c>
/// with an install directory). At each poll it follows the tenant's <c>agent</c> rollout: a build
/// other than the running one is downloaded through TUF, verified, installed as the trial build,
/// and the service asks to be restarted (systemd's <c>Restart=always</c> then starts it through
/// <c>launch</c>). It reports <c>installed</c>, a heartbeat for the running build, and
/// <c>reverted</c> once for each build <c>launch</c> quarantined. Its heartbeats carry the
/// restarts of the service (a run marker) and of the data plane (the watchdog's count), and the
/// tunnel's results from the data plane's status.
/// </summary>
internal sealed class ReleaseUpdater : IAsyncDisposable
{
    private readonly NodeCredentialStore _store;
    private readonly string _runningVersion;
    private readonly Func<IReadOnlyCollection<Guid>> _groups;
    private readonly Func<CancellationToken, Task<Wire.Agent.AgentStatus>> _status;
    private readonly Action _restart;
    private readonly TimeSpan _poll;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ReleaseSlots _releases;
    private readonly string _tufDirectory;
    private readonly string _reportedFile;
    private readonly UpdateEventQueue _events = new();
    private readonly RunMarker _runMarker;
    private readonly HeartbeatTally _health = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private TimeSpan? _retryAfter;

    public ReleaseUpdater(string stateDirectory, string installDirectory, NodeCredentialStore store, string runningVersion, Func<IReadOnlyCollection<Guid>> groups, Func<CancellationToken, Task<Wire.Agent.AgentStatus>> status, Action restart, TimeSpan poll, TimeProvider time, ILogger logger)
    {
        _status = status;
        _store = store;
        _runningVersion = runningVersion;
        _groups = groups;
        _restart = restart;
        _poll = poll;
        _time = time;
        _logger = logger;
        _releases = new ReleaseSlots(installDirectory, time);
        _tufDirectory = Path.Combine(stateDirectory, "updates", "releases-tuf");
        _reportedFile = Path.Combine(stateDirectory, "updates", "releases-reported.json");
        _runMarker = new RunMarker(Path.Combine(stateDirectory, "updates", "service.running"));
        if (_runMarker.Start())
        {
            _health.AddRestarts(AgentRoles.Service, 1);
        }

        ReportQuarantined();
    }

    public void Start() => _loop = JitteredPoll.RunAsync(
        async ct => await RunOnceAsync(ct) ? null : _retryAfter, _poll, _time, e => AgentLog.ContentCheckFailed(_logger, AgentReleases.Channel, e.Message), _stop.Token);

    /// <summary>One poll; returns whether a new build was installed (and a restart asked for).</summary>
    public async Task<bool> RunOnceAsync(CancellationToken ct)
    {
        using var credentials = _store.Load();
        if (credentials is null)
        {
            return false;
        }

        using var http = NodeHttpClient.Create(credentials, TimeSpan.FromSeconds(120));
        var installed = false;
        _retryAfter = null;
        try
        {
            var updater = await PortalRepository.OpenAsync(http, credentials.Identity.PortalUrl, _tufDirectory, _time, ct);
            await updater.RefreshAsync(ct);
            if (await PortalRepository.DescriptorAsync(updater, credentials.Identity.TenantId, AgentReleases.Channel, ct) is { } descriptor &&
                descriptor.VersionFor(credentials.Identity.SubjectId, _groups(), _time.GetUtcNow()) is { } wanted &&
                wanted.Version != _runningVersion &&
                !_releases.State.Quarantined.ContainsKey(wanted.Version) &&
                _releases.State.Trial?.Entry.Version != wanted.Version)
            {
                try
                {
                    var (bytes, sha256) = await PortalRepository.FetchAsync(updater, wanted, ct);
                    _releases.Install(wanted.Version, bytes, sha256);
                    _events.Add(AgentReleases.Channel, wanted.Version, UpdateEvents.Installed, null);
                    AgentLog.ReleaseInstalled(_logger, wanted.Version, _runningVersion);
                    installed = true;
                }
                catch (Exception e) when (e is TufException or UpdateException or IOException)
                {
                    _events.Add(AgentReleases.Channel, wanted.Version, UpdateEvents.InstallFailed, e.Message);
                    AgentLog.ContentCheckFailed(_logger, AgentReleases.Channel, e.Message);
                }
            }
        }
        catch (TufException e)
        {
            _retryAfter = e.RetryAfter;
            AgentLog.ContentCheckFailed(_logger, AgentReleases.Channel, e.Message);
        }

        var status = await _status(ct);
        _events.Add(AgentReleases.Channel, _runningVersion, UpdateEvents.Heartbeat, null, _health.Take(status.RoleRestarts, status.TunnelsOpened, status.TunnelsFailed));
        await _events.SendAsync(http, ct);
        if (installed)
        {
            _restart();
        }

        return installed;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _runMarker.Stop();
        _stop.Dispose();
    }

    // Builds launch quarantined (they crash-looped) are reported once, by the build that runs instead.
    private void ReportQuarantined()
    {
        var reported = File.Exists(_reportedFile)
            ? JsonSerializer.Deserialize(File.ReadAllText(_reportedFile), UpdatesJsonContext.Default.StringArray) ?? []
            : [];
        var fresh = _releases.State.Quarantined.Where(q => !reported.Contains(q.Key)).ToList();
        if (fresh.Count == 0)
        {
            return;
        }

        foreach (var (version, reason) in fresh)
        {
            _events.Add(AgentReleases.Channel, version, UpdateEvents.Reverted, reason);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(_reportedFile)!);
        File.WriteAllText(_reportedFile, JsonSerializer.Serialize([.. reported, .. fresh.Select(f => f.Key)], UpdatesJsonContext.Default.StringArray));
    }
}
