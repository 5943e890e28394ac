using Gatehouse.Agent.State;
using Gatehouse.Content.Channels;
using Gatehouse.Node.Config;
using Gatehouse.Node.Credentials;
using Gatehouse.Tuf;
using Gatehouse.Tuf.Client;
using Gatehouse.Updates;
using Gatehouse.Updates.Content;
using Gatehouse.Updates.Slots;
using Gatehouse.Wire.Updates;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Agent.Updates;

/// <summary>How the content updater polls and judges.</summary>
public sealed record ContentUpdaterOptions
{
    /// <summary>How often the portal's repository is checked (jittered by ±20%).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a trial version must run, without the data plane restarting and with an edge up, before it is committed.</summary>
    public TimeSpan HealthWindow { get; init; } = TimeSpan.FromMinutes(10);
}

/// <summary>
/// The updater role for content, in the data plane: at start it activates the version that should
/// be in force (trial, committed, previous); then, at each poll:
/// <code>
///   trial past its health window      commit it                                   -> "committed"
///   TUF refresh                       root, timestamp, snapshot, targets (the portal's /tuf/)
///   rollouts/TENANT/bypass.json       the descriptor: which version this device should run
///   content/bypass/VERSION.json       download, verify, stage, trial, load here    -> "installed"
///                                     refused at load: quarantined, old one kept   -> "reverted"
///   heartbeat                         the version in force                         -> "heartbeat"
/// </code>
/// A trial that crashes the process is counted by the slots' start counter and quarantined after
/// three starts; a clean stop gives its start back, so reboots during a trial are not crashes. Events wait in memory until the portal takes them.
/// </summary>
internal sealed class ContentUpdater : IAsyncDisposable
{
    private readonly NodeCredentialStore _store;
    private readonly AgentState _state;
    private readonly Func<IReadOnlyCollection<Guid>> _groups;
    private readonly Action<BypassMatcher?> _apply;
    private readonly ContentUpdaterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SlotStore _slots;
    private readonly ContentActivation _activation;
    private readonly string _tufDirectory;
    private readonly RunMarker _runMarker;
    private readonly HeartbeatTally _health = new();
    private readonly UpdateEventQueue _events = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _running = new(1, 1);
    private Task _loop = Task.CompletedTask;
    private string? _version;
    private bool _onTrial;
    private DateTimeOffset _trialSince;
    private string? _wanted;

    public ContentUpdater(string stateDirectory, NodeCredentialStore store, AgentState state, Func<IReadOnlyCollection<Guid>> groups, Action<BypassMatcher?> apply, ContentUpdaterOptions? options, TimeProvider time, ILogger logger)
    {
        _store = store;
        _state = state;
        _groups = groups;
        _apply = apply;
        _options = options ?? new ContentUpdaterOptions();
        _time = time;
        _logger = logger;
        var updates = Path.Combine(stateDirectory, "updates");
        _slots = new SlotStore(Path.Combine(updates, BypassChannel.ChannelName), time);
        _activation = new ContentActivation(_slots, new BypassChannel());
        _tufDirectory = Path.Combine(updates, "tuf");
        _runMarker = new RunMarker(Path.Combine(updates, "dataplane.running"));
    }

    /// <summary>
    /// Notes that the data plane started: a run marker left by the previous run means it ended
    /// without a clean stop (a crash, a kill), which the next heartbeat reports as a restart.
    /// </summary>
    public void MarkStarted()
    {
        if (_runMarker.Start())
        {
            _health.AddRestarts(Wire.Updates.AgentRoles.DataPlane, 1);
        }
    }

    /// <summary>Loads the version that should be in force (before the data plane carries traffic).</summary>
    public void Activate()
    {
        var active = _activation.Activate();
        foreach (var refused in active.Refused)
        {
            AgentLog.ContentRefused(_logger, BypassChannel.ChannelName, refused.Version, refused.ToString());
            if (refused.Slot == "trial")
            {
                Enqueue(refused.Version, UpdateEvents.Reverted, refused.Reason);
            }
        }

        if (active.Value is { } content)
        {
            _apply(new BypassMatcher((BypassList)content.Value, content.Version));
            _version = content.Version;
            _onTrial = active.OnTrial;
            _trialSince = _time.GetUtcNow();
            AgentLog.ContentInForce(_logger, BypassChannel.ChannelName, content.Version, active.OnTrial ? "trial" : "committed");
        }
        else
        {
            _apply(null);
            _version = null;
            _onTrial = false;
        }

        ShowState();
    }

    /// <summary>Starts polling.</summary>
    public void Start() => _loop = JitteredPoll.RunAsync(RunOnceAsync, _options.PollInterval, _time, e => AgentLog.ContentCheckFailed(_logger, BypassChannel.ChannelName, e.Message), _stop.Token);

    /// <summary>One poll: commit, refresh, install what the rollout says, report.</summary>
    /// <param name="ct">Cancels the poll.</param>
    /// <returns>How long the portal asked to wait before the next poll, if it did.</returns>
    public async Task<TimeSpan?> RunOnceAsync(CancellationToken ct)
    {
        await _running.WaitAsync(ct);
        try
        {
            using var credentials = _store.Load();
            if (credentials is null)
            {
                return null;
            }

            using var http = NodeHttpClient.Create(credentials, TimeSpan.FromSeconds(60));
            CommitIfHealthy();
            TimeSpan? retryAfter = null;
            try
            {
                var updater = await PortalRepository.OpenAsync(http, credentials.Identity.PortalUrl, _tufDirectory, _time, ct);
                await updater.RefreshAsync(ct);
                var wanted = await PortalRepository.DescriptorAsync(updater, credentials.Identity.TenantId, BypassChannel.ChannelName, ct) is { } descriptor
                    ? descriptor.VersionFor(credentials.Identity.SubjectId, _groups(), _time.GetUtcNow())
                    : null;
                _wanted = wanted?.Version;
                if (wanted is not null && wanted.Version != _version)
                {
                    await MoveToAsync(updater, wanted, ct);
                }

                ShowState();
            }
            catch (TufException e)
            {
                retryAfter = e.RetryAfter;
                AgentLog.ContentCheckFailed(_logger, BypassChannel.ChannelName, e.Message);
            }

            if (_version is not null)
            {
                var status = _state.Snapshot();
                _events.Add(BypassChannel.ChannelName, _version, UpdateEvents.Heartbeat, null, _health.Take(null, status.TunnelsOpened, status.TunnelsFailed));
            }

            await _events.SendAsync(http, ct);
            return retryAfter;
        }
        finally
        {
            _running.Release();
        }
    }

    /// <summary>Stops polling; a clean stop gives back the start of a trial still running (<see cref="SlotStore.EndTrialRunCleanly"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        if (_onTrial && _version is not null)
        {
            _slots.EndTrialRunCleanly(_version);
        }

        _runMarker.Stop();

        _stop.Dispose();
        _running.Dispose();
    }

    private void CommitIfHealthy()
    {
        // The trial must have run its window in this process (a restart starts it over) with an edge up.
        if (!_onTrial || _version is null || _time.GetUtcNow() - _trialSince < _options.HealthWindow || _slots.State.Trial is null ||
            _state.Snapshot().State != Wire.Agent.AgentStates.Connected)
        {
            return;
        }

        _slots.Commit();
        _onTrial = false;
        Enqueue(_version, UpdateEvents.Committed, null);
        AgentLog.ContentInForce(_logger, BypassChannel.ChannelName, _version, "committed");
        ShowState();
    }

    // Goes to the version the rollout names: back to the committed one by dropping the trial, or a new
    // one through download, verification, staging and a trial.
    private async Task MoveToAsync(TufUpdater updater, ChannelVersion wanted, CancellationToken ct)
    {
        if (_onTrial && _slots.State.Committed?.Version == wanted.Version)
        {
            _slots.Abandon();
            AgentLog.ContentSentBack(_logger, BypassChannel.ChannelName, _version!, wanted.Version);
            Activate();
            return;
        }

        if (_slots.State.Quarantined.ContainsKey(wanted.Version))
        {
            return; // refused here before: never tried again
        }

        try
        {
            var (bytes, sha256) = await PortalRepository.FetchAsync(updater, wanted, ct);
            _slots.Stage(wanted.Version, bytes, sha256);
            _slots.BeginTrial();
        }
        catch (Exception e) when (e is TufException or UpdateException or IOException)
        {
            Enqueue(wanted.Version, UpdateEvents.InstallFailed, e.Message);
            AgentLog.ContentCheckFailed(_logger, BypassChannel.ChannelName, e.Message);
            return;
        }

        Enqueue(wanted.Version, UpdateEvents.Installed, null);
        Activate();
    }

    private void Enqueue(string version, string kind, string? detail) => _events.Add(BypassChannel.ChannelName, version, kind, detail);

    /// <summary>
    /// The content line of the agent's status: the version in force and its slot, and, when the rollout wants a version
    /// quarantined here, that version and why (for example <c>bypass 41 (committed; 42 quarantined: 3 trial runs ended in a crash or a kill)</c>).
    /// </summary>
    private void ShowState()
    {
        var held = _wanted is { } wanted && wanted != _version && _slots.State.Quarantined.TryGetValue(wanted, out var why)
            ? $"{wanted} quarantined: {why}"
            : null;
        _state.Content = (_version, held) switch
        {
            (null, null) => null,
            (null, _) => $"{BypassChannel.ChannelName} none ({held})",
            _ => $"{BypassChannel.ChannelName} {_version} ({(_onTrial ? "trial" : "committed")}{(held is null ? "" : $"; {held}")})",
        };
    }
}
