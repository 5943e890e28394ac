using Gatehouse.Wire.Agent;

namespace Gatehouse.Agent.State;

/// <summary>
/// The one owner of the data plane's state (tailscale's LocalBackend): the subsystems report what
/// they see here (bundle in force, edges measured, flows and their bytes, errors) and this alone
/// decides what the agent is: connected, or unreachable with its fail mode. Thread-safe.
/// </summary>
internal sealed class AgentState
{
    private readonly Lock _lock = new();
    private long _flowsOpen;
    private long _flowsTotal;
    private long _tunnelsOpened;
    private long _tunnelsFailed;
    private long _flowsRefused;
    private long _bytesUp;
    private long _bytesDown;
    private long? _bundleVersion;
    private bool? _portalReachable;
    private string? _edge;
    private double? _edgeLatencyMs;
    private bool _anyEdgeUp;
    private bool _edgesProbed;
    private string _failMode = Wire.Api.FailModes.Closed;
    private string? _lastError;
    private DateTimeOffset? _lastErrorAt;
    private volatile bool _disabled;
    private string _network = Wire.Policy.NetworkKinds.Untrusted;
    private string? _networkReason;
    private string _forwarding = Wire.Api.ForwardingActions.Tunnel;
    private TimeSpan _captivePause = TimeSpan.FromMinutes(10);
    private DateTimeOffset? _captiveUntil;
    private DisasterRecovery? _dr;

    private readonly TimeProvider _time;
    private string _mode = AgentModes.LocalProxy;

    public AgentState(Guid deviceId, Guid tenantId, string portalUrl, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        DeviceId = deviceId;
        TenantId = tenantId;
        PortalUrl = portalUrl;
    }

    public Guid DeviceId { get; }

    public Guid TenantId { get; }

    public string PortalUrl { get; }

    /// <summary>How traffic is intercepted now (<see cref="AgentModes"/>).</summary>
    public string Mode
    {
        get => Volatile.Read(ref _mode);
        set => Volatile.Write(ref _mode, value);
    }

    /// <summary>The network private apps' synthetic addresses come from, when the agent hands them out.</summary>
    public string? SyntheticRange { get; set; }

    /// <summary>The content in force, for people: <c>bypass 42 (trial)</c>.</summary>
    public string? Content { get; set; }

    /// <summary>The DR record checked and how often, for people: <c>_gatehouse-dr.corp.example every 60 s</c>; null without DR settings.</summary>
    public string? DrWatch { get; set; }

    /// <summary>
    /// Whether the agent should redirect the machine's traffic to itself (transparent mode): the
    /// forwarding profile says <c>tunnel</c> on this network and nothing makes the agent stand aside.
    /// With no edge answering it still intercepts, so that fail-closed holds.
    /// </summary>
    public bool Intercepts
    {
        get
        {
            lock (_lock)
            {
                return Bypass() is null && _forwarding == Wire.Api.ForwardingActions.Tunnel;
            }
        }
    }

    public string? ProxyAddress { get; set; }

    public DateTimeOffset? CertificateNotAfter { get; set; }

    /// <summary>Whether the user disabled the agent: flows go direct, not through an edge.</summary>
    public bool Disabled
    {
        get => _disabled;
        set => _disabled = value;
    }

    /// <summary>What happens to a flow when no edge answers: <c>open</c> (direct) or <c>closed</c> (dropped).</summary>
    public string FailMode
    {
        get
        {
            lock (_lock)
            {
                return _failMode;
            }
        }
    }

    /// <summary>What a device in DR does with traffic the DR policy does not cover (<see cref="Wire.Dr.DrModes"/>); null outside DR.</summary>
    public string? DrMode
    {
        get
        {
            lock (_lock)
            {
                return _dr?.Mode;
            }
        }
    }

    /// <summary>A signed DR record moved this device to the DR edges.</summary>
    /// <param name="version">The record's version.</param>
    /// <param name="state"><c>on</c>, or <c>test</c> for a drill.</param>
    /// <param name="mode"><see cref="Wire.Dr.DrModes"/>.</param>
    public void EnterDisasterRecovery(long version, string state, string mode)
    {
        lock (_lock)
        {
            _dr = new DisasterRecovery(version, state, mode);
        }
    }

    /// <summary>Back to the cloud edges.</summary>
    public void LeaveDisasterRecovery()
    {
        lock (_lock)
        {
            _dr = null;
        }
    }

    public void BundleApplied(long version, string failMode, TimeSpan captivePortalPause)
    {
        lock (_lock)
        {
            _bundleVersion = version;
            _failMode = failMode;
            _captivePause = captivePortalPause;
        }
    }

    /// <summary>How long the app profile lets the agent stand aside for a captive portal (zero: never).</summary>
    public TimeSpan CaptivePortalPause
    {
        get
        {
            lock (_lock)
            {
                return _captivePause;
            }
        }
    }

    /// <summary>Whether a config is in force, its edges have been measured, and none answers.</summary>
    public bool EdgesUnreachable
    {
        get
        {
            lock (_lock)
            {
                return _bundleVersion is not null && _edgesProbed && !_anyEdgeUp;
            }
        }
    }

    /// <summary>A captive portal is in the way: flows go direct until <paramref name="until"/> so that the user can sign in.</summary>
    public void CaptivePortalFound(DateTimeOffset until)
    {
        lock (_lock)
        {
            _captiveUntil = until;
        }
    }

    /// <summary>Whether the agent stands aside for a captive portal now.</summary>
    public bool InCaptivePortalPause
    {
        get
        {
            lock (_lock)
            {
                return _captiveUntil is { } until && _time.GetUtcNow() < until;
            }
        }
    }

    /// <summary>The version of the config in force, if any.</summary>
    public long? BundleVersion
    {
        get
        {
            lock (_lock)
            {
                return _bundleVersion;
            }
        }
    }

    /// <summary>Why flows go direct instead of through an edge right now, or null when they go to the edges.</summary>
    public string? DirectReason()
    {
        lock (_lock)
        {
            return Bypass()?.FlowReason;
        }
    }

    public void PortalReachable(bool reachable, string? error)
    {
        lock (_lock)
        {
            _portalReachable = reachable;
            if (error is not null)
            {
                NoteError(error);
            }
        }
    }

    /// <summary>The edge prober's latest view: the primary (if any answers) and its latency.</summary>
    public void EdgesMeasured(string? primary, double? latencyMs, string? error)
    {
        lock (_lock)
        {
            _edgesProbed = true;
            _anyEdgeUp = primary is not null;
            _edge = primary;
            _edgeLatencyMs = latencyMs;
            if (error is not null)
            {
                NoteError(error);
            }
        }
    }

    /// <summary>The kind of network the device is on (<see cref="Wire.Policy.NetworkKinds"/>), as the edge is told with every flow.</summary>
    public string Network
    {
        get
        {
            lock (_lock)
            {
                return _network;
            }
        }
    }


    /// <summary>The network monitor's latest view: the network kind, why, and the forwarding profile's action there.</summary>
    public void NetworkDetected(string kind, string reason, string forwarding)
    {
        lock (_lock)
        {
            _network = kind;
            _networkReason = reason;
            _forwarding = forwarding;
        }
    }

    /// <summary>A new edge list is being measured: until the probes answer, no verdict on the edges.</summary>
    public void EdgesChanged()
    {
        lock (_lock)
        {
            _edgesProbed = false;
        }
    }

    public void Error(string error)
    {
        lock (_lock)
        {
            NoteError(error);
        }
    }

    /// <summary>Keeps <paramref name="error"/> as the last error, and when it happened; the caller holds the lock.</summary>
    private void NoteError(string error)
    {
        _lastError = error;
        _lastErrorAt = _time.GetUtcNow();
    }

    public void FlowOpened() { Interlocked.Increment(ref _flowsOpen); Interlocked.Increment(ref _flowsTotal); }

    public void FlowRefused() => Interlocked.Increment(ref _flowsRefused);

    /// <summary>Counts a flow an edge answered (whatever it decided) or that no edge answered: the tunnel's success.</summary>
    /// <param name="answered">Whether an edge answered.</param>
    public void TunnelResult(bool answered) => Interlocked.Increment(ref answered ? ref _tunnelsOpened : ref _tunnelsFailed);

    /// <summary>Bytes a flow carried just now (counted as they pass, so a long download shows while it runs).</summary>
    public void BytesUp(long count) => Interlocked.Add(ref _bytesUp, count);

    /// <summary>Bytes a flow carried just now towards the application.</summary>
    public void BytesDown(long count) => Interlocked.Add(ref _bytesDown, count);

    public void FlowClosed() => Interlocked.Decrement(ref _flowsOpen);

    /// <summary>
    /// The one place that decides whether flows skip the edges (held under the lock): a captive portal's
    /// pause, then the user's disable, then the forwarding profile's action on this network.
    /// </summary>
    private Bypassed? Bypass()
    {
        if (_captiveUntil is { } until && _time.GetUtcNow() < until)
        {
            return new(AgentStates.CaptivePortal, $"A captive portal is in the way: traffic goes direct until {until:HH:mm} UTC so that you can sign in.", "a captive portal is in the way");
        }

        if (_disabled)
        {
            return new(AgentStates.Disabled, "Disabled: traffic goes direct, not through Gatehouse, until `gatehouse agent enable`.", "the agent is disabled");
        }

        if (_bundleVersion is not null && _forwarding == Wire.Api.ForwardingActions.None)
        {
            return new(AgentStates.Direct, $"On a {_network} network ({_networkReason}): the forwarding profile sends traffic direct.", $"the forwarding profile sends traffic direct on this {_network} network");
        }

        return null;
    }

    public AgentStatus Snapshot()
    {
        lock (_lock)
        {
            var (state, summary) = (_bundleVersion, _edgesProbed, _anyEdgeUp) switch
            {
                _ when Bypass() is { } bypass => (bypass.State, bypass.Summary),
                (null, _, _) => (AgentStates.Starting, "Enrolled; waiting for the first config from the portal."),
                _ when _dr is { } dr => (AgentStates.DisasterRecovery, (_edgesProbed, _anyEdgeUp) switch
                {
                    (false, _) => $"Disaster recovery ({dr}): measuring the DR edges.",
                    (_, true) => $"Disaster recovery ({dr}): traffic goes through DR edge {_edge} under the DR policy.",
                    _ => $"Disaster recovery ({dr}): no DR edge answers; traffic {(_failMode == Wire.Api.FailModes.Open ? "goes direct (fail-open)" : "is dropped (fail-closed)")}.",
                }),
                (_, false, _) => (AgentStates.Starting, "Config in force; measuring the edges."),
                (_, _, true) => (AgentStates.Connected, $"Connected: traffic goes through edge {_edge}."),
                _ => (AgentStates.EdgesUnreachable, _failMode == Wire.Api.FailModes.Open
                    ? "No edge answers: traffic goes direct (fail-open)."
                    : "No edge answers: traffic is dropped (fail-closed)."),
            };
            return new AgentStatus(
                state,
                summary,
                DeviceId,
                TenantId,
                PortalUrl,
                CertificateNotAfter,
                _bundleVersion,
                _portalReachable,
                _edge,
                _edgeLatencyMs is { } ms ? Math.Round(ms, 2) : null,
                Mode,
                ProxyAddress,
                Network: _network,
                FailMode: _failMode,
                SyntheticRange: SyntheticRange,
                FlowsOpen: Interlocked.Read(ref _flowsOpen),
                FlowsTotal: Interlocked.Read(ref _flowsTotal),
                FlowsRefused: Interlocked.Read(ref _flowsRefused),
                BytesUp: Interlocked.Read(ref _bytesUp),
                BytesDown: Interlocked.Read(ref _bytesDown),
                LastError: _lastError,
                LastErrorAt: _lastErrorAt,
                Content: Content,
                TunnelsOpened: Interlocked.Read(ref _tunnelsOpened),
                TunnelsFailed: Interlocked.Read(ref _tunnelsFailed),
                Dr: _dr?.ToString(),
                DrWatch: DrWatch);
        }
    }

    private sealed record Bypassed(string State, string Summary, string FlowReason);

    private sealed record DisasterRecovery(long Version, string State, string Mode)
    {
        public override string ToString() =>
            $"{(State == Wire.Dr.DrStates.Test ? "drill" : "on")}, fail-{Mode} outside the DR policy (record version {Version})";
    }
}
