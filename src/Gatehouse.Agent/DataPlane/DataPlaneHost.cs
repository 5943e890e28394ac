using System.Net;
using Gatehouse.Agent.Bundles;
using Gatehouse.Agent.Edges;
using Gatehouse.Agent.LocalApi;
using Gatehouse.Agent.LocalProxy;
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
/// application ──► LocalProxyServer ──► EdgeSet.OpenAsync ──► TunnelClient ──► edge
/// service ──status──► status socket ──► AgentState.Snapshot
/// </code>
/// </remarks>
public sealed class DataPlaneHost : IAsyncDisposable
{
    private readonly AgentState _state;
    private readonly BundleFollower _follower;
    private readonly CertificateRenewal _renewal;
    private readonly EdgeSet _edges;
    private readonly LocalProxyServer _proxy;
    private readonly LocalApiServer _status;
    private readonly NetworkMonitor _network;
    private readonly CaptivePortalMonitor _captive;
    private readonly ILogger _logger;

    private DataPlaneHost(AgentState state, BundleFollower follower, CertificateRenewal renewal, EdgeSet edges, LocalProxyServer proxy, LocalApiServer status, NetworkMonitor network, CaptivePortalMonitor captive, ILogger logger)
    {
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
        var state = new AgentState(credentials.Identity.SubjectId, credentials.Identity.TenantId, credentials.Identity.PortalUrl.ToString(), "local-proxy", time)
        {
            CertificateNotAfter = credentials.NotAfter,
            Disabled = File.Exists(AgentPaths.DisabledMarker(options.StateDirectory)),
        };
        var edges = new EdgeSet(state, logger);
        edges.UseCredentials(credentials);
        var follower = new BundleFollower(credentials, store.LastKnownGood, options.Follower, time, loggers.CreateLogger<BundleFollower>());
        var renewal = new CertificateRenewal(store, follower, time, loggers, renewed =>
        {
            edges.UseCredentials(renewed);
            state.CertificateNotAfter = renewed.NotAfter;
        });
        LocalProxyServer? proxy = null;
        LocalApiServer? status = null;
        try
        {
            proxy = LocalProxyServer.Start(listen, edges, state, logger);
            state.ProxyAddress = proxy.Address.ToString();
            // Owner-only: the service alone talks to it, so it carries out what it is asked.
            status = LocalApiServer.Start(options.StatusSocket, UnixFileMode.UserRead | UnixFileMode.UserWrite, (request, _, _) => Task.FromResult(Control(state, request)), logger);
        }
        catch
        {
            proxy?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        var network = new NetworkMonitor(new NetworkDetector(options.ResolvConf), state, options.NetworkRecheckInterval);
        var captive = new CaptivePortalMonitor(new Uri(options.CaptivePortalProbe), state, options.CaptivePortalRecheckInterval, time);
        var host = new DataPlaneHost(state, follower, renewal, edges, proxy, status, network, captive, logger);
        follower.Changed += (_, e) => host.Apply(e.Bundle);
        follower.StatusChanged += (_, s) => state.PortalReachable(s.Connection == PortalConnection.Connected, s.Connection is PortalConnection.Unreachable or PortalConnection.Refused ? s.LastError : null);
        if (follower.Start() is { } current)
        {
            host.Apply(current);
        }

        edges.Start();
        renewal.Start();
        network.Start();
        captive.Start();
        return host;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _status.DisposeAsync();
        await _proxy.DisposeAsync();
        await _network.DisposeAsync();
        await _captive.DisposeAsync();
        await _renewal.DisposeAsync();
        await _follower.DisposeAsync();
        await _edges.DisposeAsync();
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

    private void Apply(VerifiedBundle bundle)
    {
        // The last-known-good bundle arrives twice at start: from Start() and from the Changed event.
        if (_state.BundleVersion == bundle.Header.Version)
        {
            return;
        }

        AgentBundle config;
        try
        {
            config = AgentBundle.From(bundle);
        }
        catch (FormatException e)
        {
            AgentLog.BundleRefused(_logger, bundle.Header.Version, e.Message);
            _state.Error($"config version {bundle.Header.Version} refused: {e.Message}");
            return;
        }

        _edges.Use(config.Edges);
        _network.Use(config);
        _state.BundleApplied(config.Version, config.FailMode, config.CaptivePortalPause);
        AgentLog.BundleApplied(_logger, config.Version, config.Edges.Count, config.FailMode);
    }
}
