using System.Net;
using System.Text.Json;
using Gatehouse.Agent.Bundles;
using Gatehouse.Agent.Edges;
using Gatehouse.Agent.State;
using Gatehouse.Trust;
using Gatehouse.Trust.Dr;
using Gatehouse.Wire.Agent;
using Gatehouse.Wire.Dr;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Agent.Dr;

/// <summary>
/// Follows the tenant's signed DR record and routes the tunnels by it:
/// <code>
///   every CheckInterval (every 5 s while no edge answers)    TXT RECORD-NAME from the DNS servers
///     valid (DR key, this tenant, version ≥ last seen, not expired), the newest of them:
///       on, or test with this device in the drill group   ─► DR edges; DR mode in the status
///       off (or test, not in the drill)                    ─► back to the cloud edges once one answers
///     none valid, or no answer                             ─► nothing changes
/// </code>
/// The last version seen is kept on disk, so that an older record replayed later is refused
/// across restarts too.
/// </summary>
internal sealed class DrMonitor : IAsyncDisposable
{
    /// <summary>How soon the record is looked up again while no edge answers.</summary>
    public static readonly TimeSpan UnreachableRecheck = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    private readonly AgentState _state;
    private readonly EdgeSet _edges;
    private readonly Func<IReadOnlyCollection<Guid>> _groups;
    private readonly Func<IReadOnlyList<IPEndPoint>> _servers;
    private readonly string _file;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int? _socketMark;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private BundleDr? _settings;
    private IReadOnlyList<BundleEdge> _cloud = [];
    private DrRecord? _inForce;
    private long? _lastVersion;
    private string? _lastText;
    private DateTimeOffset _lastCheck = DateTimeOffset.MinValue;
    private Task _loop = Task.CompletedTask;

    public DrMonitor(AgentState state, EdgeSet edges, Func<IReadOnlyCollection<Guid>> groups, Func<IReadOnlyList<IPEndPoint>> servers, string stateDirectory, int? socketMark, TimeProvider time, ILogger logger)
    {
        _socketMark = socketMark;
        _state = state;
        _edges = edges;
        _groups = groups;
        _servers = servers;
        _file = Path.Combine(stateDirectory, "dr.json");
        _time = time;
        _logger = logger;
        (_lastVersion, _lastText) = LoadLast();
    }

    /// <summary>Takes a bundle's cloud edges and DR settings; the edges in use follow the DR state.</summary>
    public void Use(IReadOnlyList<BundleEdge> cloudEdges, BundleDr? settings)
    {
        bool leave;
        lock (_lock)
        {
            _cloud = cloudEdges;
            _settings = settings;
            _state.DrWatch = settings is null ? null : $"{settings.RecordName} every {settings.CheckInterval.TotalSeconds:0} s";
            leave = _inForce is not null && settings is null;
            if (leave)
            {
                _inForce = null;
            }
        }

        if (leave)
        {
            _state.LeaveDisasterRecovery();
            AgentLog.DrLeft(_logger, "the bundle no longer has DR settings");
        }

        _edges.Use(_inForce is not null && settings is not null ? settings.Edges : cloudEdges);
        _wake.Release();
    }

    public void Start() => _loop = RunAsync(_stop.Token);

    /// <summary>Looks the record up once and acts on it.</summary>
    public async Task CheckOnceAsync(CancellationToken ct)
    {
        _lastCheck = _time.GetUtcNow();
        var settings = Volatile.Read(ref _settings);
        if (settings is null)
        {
            return;
        }

        IReadOnlyList<string> texts;
        try
        {
            texts = await TxtLookup.QueryAsync(settings.RecordName, _servers(), LookupTimeout, ct, _socketMark);
        }
        catch (IOException e)
        {
            AgentLog.DrLookupFailed(_logger, settings.RecordName, e.Message);
            return;
        }

        if (Newest(texts, settings) is not var (record, text))
        {
            return;
        }

        SaveLast(record.Version, text);
        var wanted = record.State == DrStates.On ||
            (record.State == DrStates.Test && settings.DrillGroupId is { } drill && _groups().Contains(drill));
        if (wanted)
        {
            Enter(record, settings);
        }
        else if (_inForce is not null)
        {
            if (await _edges.AnyAnswersAsync(_cloud, ct))
            {
                Leave(record);
            }
            else
            {
                AgentLog.DrStaying(_logger, record.Version, record.State);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
        _wake.Dispose();
    }

    private (DrRecord Record, string Text)? Newest(IReadOnlyList<string> texts, BundleDr settings)
    {
        (DrRecord Record, string Text)? newest = null;
        foreach (var text in texts)
        {
            var verified = DrRecordSigning.Verify(text, settings.PublicKeySpki, _state.TenantId, _lastVersion, _time.GetUtcNow());
            if (!verified.IsValid)
            {
                // Other TXT records may share the name (SPF, site verification): only ours are worth a word.
                if (text.StartsWith(DrRecord.Prefix, StringComparison.Ordinal))
                {
                    AgentLog.DrRecordIgnored(_logger, settings.RecordName, verified.Reason);
                }

                continue;
            }

            if (verified.Record!.Version == _lastVersion && _lastText is not null && text != _lastText)
            {
                // The same version signed again with another state: an old record replayed by whoever answers DNS,
                // or a mistake; either way, a change takes a higher version.
                AgentLog.DrRecordIgnored(_logger, settings.RecordName, $"version {_lastVersion} was seen already, with other content; a new record needs a higher --version");
                continue;
            }

            if (newest is null || verified.Record.Version > newest.Value.Record.Version)
            {
                newest = (verified.Record, text);
            }
        }

        return newest;
    }

    private void Enter(DrRecord record, BundleDr settings)
    {
        lock (_lock)
        {
            if (_inForce is { } current && current.Version == record.Version)
            {
                return;
            }

            _inForce = record;
        }

        _state.EnterDisasterRecovery(record.Version, record.State, record.Mode);
        _edges.Use(settings.Edges);
        AgentLog.DrEntered(_logger, record.Version, record.State, record.Mode, string.Join(", ", settings.Edges.Select(e => e.Name)));
    }

    private void Leave(DrRecord record)
    {
        IReadOnlyList<BundleEdge> cloud;
        lock (_lock)
        {
            _inForce = null;
            cloud = _cloud;
        }

        _state.LeaveDisasterRecovery();
        _edges.Use(cloud);
        AgentLog.DrLeft(_logger, $"record version {record.Version} says {record.State} and a cloud edge answers");
    }

    private async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var interval = Volatile.Read(ref _settings)?.CheckInterval ?? TimeSpan.FromMinutes(1);
            if (_state.Snapshot().State == AgentStates.EdgesUnreachable && interval > UnreachableRecheck)
            {
                interval = UnreachableRecheck;
            }

            if (_time.GetUtcNow() - _lastCheck >= interval)
            {
                try
                {
                    await CheckOnceAsync(ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    AgentLog.DrLookupFailed(_logger, Volatile.Read(ref _settings)?.RecordName ?? "(none)", e.Message);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    // Stopped in the middle of a lookup: the loop ends here, and disposing does not throw.
                    return;
                }
            }

            try
            {
                // A new bundle wakes the loop: its settings are checked at once.
                if (await _wake.WaitAsync(Tick, ct))
                {
                    _lastCheck = DateTimeOffset.MinValue;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private (long? Version, string? Text) LoadLast()
    {
        try
        {
            if (!File.Exists(_file))
            {
                return (null, null);
            }

            using var document = JsonDocument.Parse(File.ReadAllText(_file));
            var root = document.RootElement;
            return (root.GetProperty("version").GetInt64(), root.TryGetProperty("record", out var text) ? text.GetString() : null);
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return (null, null); // unreadable: the next valid record sets it again
        }
    }

    private void SaveLast(long version, string text)
    {
        if (_lastVersion > version || (_lastVersion == version && _lastText is not null))
        {
            return;
        }

        _lastVersion = version;
        _lastText = text;
        OwnerOnlyFile.WriteAtomically(_file, new System.Text.Json.Nodes.JsonObject { ["version"] = version, ["record"] = text }.ToJsonString(), overwrite: true);
    }
}
