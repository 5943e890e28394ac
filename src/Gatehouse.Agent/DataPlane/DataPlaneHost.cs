using System.Net;
using Gatehouse.Agent.Bundles;
using Gatehouse.Agent.Edges;
using Gatehouse.Agent.LocalApi;
using Gatehouse.Agent.Names;
using Gatehouse.Agent.Flows;
using Gatehouse.Agent.LocalProxy;
using Gatehouse.Agent.Transparent;
using Gatehouse.Agent.Networks;
using Gatehouse.Agent.State;
using Gatehouse.Node;
using Gatehouse.Node.Config;
using Gatehouse.Node.Enrollment;
using Gatehouse.Trust.Bundles;
using Gatehouse.Wire.Agent;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Agent.DataPlane;

/// <summary>
/// The data plane (the "tunnel" role): follows the agent's signed config, keeps the device certificate
/// fresh, measures the edges and carries applications' flows to them through the local proxy.
/// </summary>
/// <remarks>
/// <code>
/// device credentials ──► BundleFollower ──Changed──► AgentBundle ──► EdgeSet (edges, probes) + AgentState (fail mode)
///                    └─► CertificateRenewal ──renewed──► follower, EdgeSet
/// application ──► local proxy ─────────────────┐
/// application ──► nft redirect ──► transparent listener ──► FlowOpener ──► EdgeSet.OpenAsync ──► TunnelClient ──► edge
/// resolver lookups ──► nft redirect ──► LocalResolver (private apps: SyntheticAddresses; others: system's servers)
/// service ──status──► status socket ──► AgentState.Snapshot
/// </code>
/// </remarks>
public sealed class DataPlaneHost : IAsyncDisposable
{
    private readonly AgentState _state;
    private readonly BundleFollower _follower;
    private readonly CertificateRenewal _renewal;
    private readonly EdgeSet _edges;
    private readonly FlowListener _proxy;
    private readonly TransparentInterception? _transparent;
    private readonly LocalApiServer _status;
    private readonly NetworkMonitor _network;
    private readonly CaptivePortalMonitor _captive;
    private readonly ILogger _logger;
    private readonly string _stateDirectory;
    private readonly SemaphoreSlim _ownerRefresh = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private IReadOnlyCollection<Guid> _groups;
    private Updates.ContentUpdater? _content;
    private Dr.DrMonitor _dr = null!;
    private VerifiedBundle? _bundle;
    private Task _ownerLoop = Task.CompletedTask;

    private DataPlaneHost(AgentState state, BundleFollower follower, CertificateRenewal renewal, EdgeSet edges, FlowListener proxy, TransparentInterception? transparent, LocalApiServer status, NetworkMonitor network, CaptivePortalMonitor captive, string stateDirectory, ILogger logger)
    {
        _stateDirectory = stateDirectory;
        _groups = DeviceOwner.LoadGroups(stateDirectory);
        _transparent = transparent;
        _network = network;
        _captive = captive;
        _state = state;
        _follower = follower;
        _renewal = renewal;
        _edges = edges;
        _proxy = proxy;
        _status = status;
        _logger = logger;
    }

    /// <summary>The local proxy's address.</summary>
    public IPEndPoint ProxyAddress => _proxy.Address;

    /// <summary>The edges, primary first, as the probes see them.</summary>
    internal IReadOnlyList<(string Name, string Address, bool Up, double? LatencyMs)> Edges => _edges.Ordered;

    /// <summary>Where the agent stands.</summary>
    public AgentStatus Status => _state.Snapshot();

    /// <summary>Starts from the stored credentials and last-known-good config.</summary>
    /// <exception cref="NodeException"><see cref="NodeErrorReason.NotEnrolled"/> when the device is not enrolled.</exception>
    /// <exception cref="System.Net.Sockets.SocketException">The local proxy's address cannot be bound.</exception>
    public static DataPlaneHost Start(DataPlaneOptions options, ILoggerFactory loggers, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        time ??= TimeProvider.System;
        var logger = loggers.CreateLogger<DataPlaneHost>();
        var store = AgentPaths.DeviceStore(options.StateDirectory);
        using var credentials = store.Load()
            ?? throw new NodeException(NodeErrorReason.NotEnrolled, "This device is not enrolled: run `gatehouse enroll --portal URL --token TOKEN`.");
        var listen = IPEndPoint.Parse(options.ProxyListen);
        var state = new AgentState(credentials.Identity.SubjectId, credentials.Identity.TenantId, credentials.Identity.PortalUrl.ToString(), time)
        {
            CertificateNotAfter = credentials.NotAfter,
            Disabled = File.Exists(AgentPaths.DisabledMarker(options.StateDirectory)),
        };

        // In transparent mode every socket of the agent's own carries the mark its nftables table lets pass.
        int? mark = options.Transparent ? NftRedirect.Mark : null;
        NodeHttpClient.ProcessSocketMark = mark;
        var edges = new EdgeSet(state, logger, mark);
        var flows = new FlowOpener(edges, state, mark);
        edges.UseCredentials(credentials);

        // Content is activated before any flow is carried: the version in force, or the last good one.
        DataPlaneHost? created = null;
        var content = new Updates.ContentUpdater(
            options.StateDirectory, store, state, () => created?._groups ?? DeviceOwner.LoadGroups(options.StateDirectory),
            bypass => flows.Bypass = bypass, options.ContentUpdates, time, loggers.CreateLogger<Updates.ContentUpdater>());
        content.MarkStarted();
        content.Activate();
        var follower = new BundleFollower(credentials, store.LastKnownGood, options.Follower, time, loggers.CreateLogger<BundleFollower>());
        var renewal = new CertificateRenewal(store, follower, time, loggers, renewed =>
        {
            edges.UseCredentials(renewed);
            state.CertificateNotAfter = renewed.NotAfter;
        });
        FlowListener? proxy = null;
        TransparentInterception? transparent = null;
        LocalApiServer? status = null;
        try
        {
            string? advertised = null;
            proxy = FlowListener.Start(listen, client => new LocalProxySession(client, flows, state, advertised!, logger), "local proxy", logger);
            advertised = proxy.Address.ToString();
            state.ProxyAddress = advertised;
            if (options.Transparent)
            {
                transparent = StartTransparent(options, flows, state, logger);
            }

            // Owner-only: the service alone talks to it, so it carries out what it is asked.
            status = LocalApiServer.Start(options.StatusSocket, UnixFileMode.UserRead | UnixFileMode.UserWrite, (request, _, _) => Task.FromResult(Control(state, request)), logger);
        }
        catch
        {
            transparent?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            proxy?.DisposeAsync().AsTask().GetAwaiter().GetResult();

            // A start that fails before any traffic (a port another program holds, no nftables) is the machine's, not
            // the content's: it ends as a clean stop does, giving a trial its start back and leaving no crash behind.
            content.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        var network = new NetworkMonitor(new NetworkDetector(options.ResolvConf, socketMark: mark), state, options.NetworkRecheckInterval);
        var captive = new CaptivePortalMonitor(new Uri(options.CaptivePortalProbe), state, options.CaptivePortalRecheckInterval, time, mark);
        var host = new DataPlaneHost(state, follower, renewal, edges, proxy, transparent, status, network, captive, options.StateDirectory, logger) { _content = content };
        host._dr = new Dr.DrMonitor(
            state, edges, () => host._groups, () => options.DrResolvers.Count > 0 ? options.DrResolvers : Dr.TxtLookup.SystemServers(options.ResolvConf),
            options.StateDirectory, mark, time, logger);
        created = host;
        follower.Check = host.Refusal;
        follower.Changed += (_, e) => host.OnBundle(e.Bundle);
        follower.StatusChanged += (_, s) => state.PortalReachable(s.Connection == PortalConnection.Connected, s.Connection is PortalConnection.Unreachable or PortalConnection.Refused ? s.LastError : null);
        if (follower.Start() is { } current)
        {
            host.OnBundle(current);
        }

        host._ownerLoop = host.RefreshOwnerPeriodicallyAsync(options.OwnerRefreshInterval);
        edges.Start();
        renewal.Start();
        network.Start();
        captive.Start();
        content.Start();
        host._dr.Start();
        return host;
    }

    /// <summary>Looks the DR record up now and acts on it (tests; the monitor does it on its own schedule).</summary>
    internal Task CheckDisasterRecoveryAsync(CancellationToken ct) => _dr.CheckOnceAsync(ct);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _dr.DisposeAsync();
        if (_content is not null)
        {
            await _content.DisposeAsync();
        }

        await _status.DisposeAsync();
        if (_transparent is not null)
        {
            await _transparent.DisposeAsync();
        }

        await _proxy.DisposeAsync();
        await _network.DisposeAsync();
        await _captive.DisposeAsync();
        await _renewal.DisposeAsync();
        await _follower.DisposeAsync();
        await _edges.DisposeAsync();
        await _ownerLoop;
        await _ownerRefresh.WaitAsync(); // a refresh still running finishes first
        _ownerRefresh.Dispose();
        _stop.Dispose();
    }

    /// <summary>
    /// Chooses the synthetic range (100.64.0.0/16 unless the host uses it) and starts the transparent
    /// listener and the resolver; the nftables table follows the state from then on.
    /// </summary>
    private static TransparentInterception StartTransparent(DataPlaneOptions options, FlowOpener flows, AgentState state, ILogger logger)
    {
        var synthetic = new SyntheticAddressSpace(() => SyntheticRange.HostNetworks(options.ResolvConf), options.SyntheticCapacity, state, logger);
        return TransparentInterception.Start(IPEndPoint.Parse(options.TransparentListen), IPEndPoint.Parse(options.DnsListen), flows, synthetic, options.ResolvConf, state, logger);
    }

    /// <summary>What the service asks of the data plane: its status, or to stop or resume carrying traffic through edges.</summary>
    private static AgentResponse Control(AgentState state, AgentRequest request)
    {
        switch (request.Command)
        {
            case AgentCommands.Disable:
                state.Disabled = true;
                break;
            case AgentCommands.Enable:
                state.Disabled = false;
                break;
            case AgentCommands.Status:
                break;
            default:
                return new AgentResponse(false, $"The data plane does not do \"{request.Command}\".", state.Snapshot());
        }

        return new AgentResponse(true, null, state.Snapshot());
    }

    /// <summary>
    /// Applies a new bundle with the user's groups known so far, then asks the portal for them again
    /// (a change of groups re-publishes the bundle, so this is when they may have changed) and applies
    /// the bundle once more if they did.
    /// </summary>
    private void OnBundle(VerifiedBundle bundle)
    {
        // The last-known-good bundle arrives twice at start: from Start() and from the Changed event.
        if (_state.BundleVersion == bundle.Header.Version)
        {
            return;
        }

        Volatile.Write(ref _bundle, bundle);
        Apply(bundle);
        _ = RefreshOwnerAsync();
    }

    private async Task RefreshOwnerPeriodicallyAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                if (Volatile.Read(ref _bundle) is not null)
                {
                    await RefreshOwnerAsync();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    private async Task RefreshOwnerAsync()
    {
        try
        {
            await _ownerRefresh.WaitAsync(_stop.Token);
        }
        catch (OperationCanceledException)
        {
            return; // stopping
        }

        try
        {
            using var credentials = AgentPaths.DeviceStore(_stateDirectory).Load();
            if (credentials is null || await DeviceOwner.FetchAsync(credentials, _stop.Token) is not { } self)
            {
                return;
            }

            DeviceOwner.Save(_stateDirectory, self);
            var groups = self.GroupIds.ToHashSet();
            if (!groups.SetEquals(_groups))
            {
                _groups = groups;
                Apply(Volatile.Read(ref _bundle)!);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            // The kept groups stay in force.
        }
        finally
        {
            _ownerRefresh.Release();
        }
    }

    /// <summary>Why the data plane cannot use <paramref name="bundle"/>, or null: the follower then keeps the previous one, in force and on disk.</summary>
    private string? Refusal(VerifiedBundle bundle)
    {
        try
        {
            _ = AgentBundle.From(bundle, _groups);
            return null;
        }
        catch (FormatException e)
        {
            AgentLog.BundleRefused(_logger, bundle.Header.Version, e.Message);
            _state.Error($"config version {bundle.Header.Version} refused: {e.Message}");
            return e.Message;
        }
    }

    private void Apply(VerifiedBundle bundle)
    {
        AgentBundle config;
        try
        {
            config = AgentBundle.From(bundle, _groups);
        }
        catch (FormatException e)
        {
            AgentLog.BundleRefused(_logger, bundle.Header.Version, e.Message);
            _state.Error($"config version {bundle.Header.Version} refused: {e.Message}");
            return;
        }

        _dr.Use(config.Edges, config.Dr);
        _transparent?.UsePrivateApps(new PrivateAppNames(config.PrivateAppDomains));
        _network.Use(config);
        _state.BundleApplied(config.Version, config.FailMode, config.CaptivePortalPause);
        AgentLog.BundleApplied(_logger, config.Version, config.Edges.Count, config.FailMode);
    }
}
