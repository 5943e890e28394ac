using Gatehouse.Edge.Flows;
using Gatehouse.Edge.Identities;
using Gatehouse.Edge.Operations;
using Gatehouse.Edge.Policies;
using Gatehouse.Edge.Private;
using Gatehouse.Edge.Proxy;
using Gatehouse.Edge.TransactionLogs;
using Gatehouse.Edge.Tunnel;
using Gatehouse.Flows;
using Gatehouse.Hosting;
using Gatehouse.Node;
using Gatehouse.Node.Config;
using Gatehouse.Node.Credentials;
using Gatehouse.Node.Enrollment;
using Gatehouse.Policy.Decisions;
using Gatehouse.Trust.Bundles;
using Gatehouse.Wire.Config;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gatehouse.Edge.Hosting;

/// <summary>
/// Starts a service edge on its enrolled credentials.
/// </summary>
/// <remarks>
/// <code>
/// credentials ──► BundleFollower ──Changed──► EdgePolicy.Apply ──► PolicyHolder (policy in force)
///  (state dir)    last-known-good at once,      compile; refuse        ▲
///                 then long poll the portal     keeps the previous     │ both listeners decide here (DataPath)
///                                                                      │
/// Kestrel, inline sockets: ops (GET /healthz, GET /metrics), forward proxy (ForwardProxy)
/// Kestrel of its own (TunnelServer): agent tunnels, HTTP/2 over mutual TLS (TunnelHandler)
/// </code>
/// </remarks>
public static class EdgeHost
{
    /// <summary>Loads the credentials, puts the last-known-good policy in force, starts following the portal and serves the operations endpoints.</summary>
    /// <param name="options">Where the state is and where to listen.</param>
    /// <param name="ct">Cancels the start.</param>
    /// <returns>The running edge; dispose it to stop.</returns>
    /// <exception cref="NodeException"><see cref="NodeErrorReason.NotEnrolled"/> when the state directory holds no enrollment; <see cref="NodeErrorReason.CorruptStore"/> when it cannot be read.</exception>
    public static async Task<RunningEdge> StartAsync(EdgeOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var store = new NodeCredentialStore(options.StateDirectory);
        using var credentials = store.Load()
            ?? throw new NodeException(NodeErrorReason.NotEnrolled, $"This edge is not enrolled: {store.Directory} holds no enrollment. Run `gatehouse-edge enroll` first.");

        var opsEndpoint = ListenAddress.Parse(options.OpsListen, "--ops-listen");
        var proxyEndpoint = options.ProxyListen is null ? null : ListenAddress.Parse(options.ProxyListen, "--proxy-listen");
        var tunnelEndpoint = options.TunnelListen is null ? null : ListenAddress.Parse(options.TunnelListen, "--tunnel-listen");
        // Written into the PAC file as it is: a value that is not HOST:PORT would break every client's configuration.
        var advertised = options.ProxyAdvertise is { } given ? HostPort.Parse(given, "--proxy-address", EdgeOptions.ProxyAddressExample) : null;

        var builder = ServerHost.CreateSlimBuilder();
        ForwardProxy? proxy = null;
        ListenOptions? opsListener = null;
        ListenOptions? proxyListener = null;
        PausingSocketTransport.Use(builder.Services, ForwardProxy.SocketOptions);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false; // as the portal: answers do not name the server software
            kestrel.Limits.MaxConcurrentConnections = options.Limits.MaxConnections;
            kestrel.Listen(opsEndpoint, listen =>
            {
                opsListener = listen;
                listen.Protocols = HttpProtocols.Http1;
            });
            if (proxyEndpoint is not null)
            {
                kestrel.Listen(proxyEndpoint, listen =>
                {
                    proxyListener = listen;
                    listen.Run(connection => proxy!.OnConnectedAsync(connection));
                });
            }
        });
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);

        var app = builder.Build();
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();
        var time = options.Time ?? TimeProvider.System;

        var metrics = new EdgeMetrics();
        var policy = new EdgePolicy(metrics, time, loggers.CreateLogger<EdgePolicy>());
        var followerOptions = options.DisasterRecovery ? (options.Follower ?? new BundleFollowerOptions()) with { Consumer = BundleConsumers.Dr } : options.Follower;
        var follower = new BundleFollower(credentials, store.LastKnownGood, followerOptions, time, loggers.CreateLogger<BundleFollower>());
        var logs = options.Recorder is null
            ? new TransactionLog(options.Logs, options.Logs.ShipToPortal ? NodeHttpClient.Create(credentials) : null, metrics.Meter, time, loggers.CreateLogger<TransactionLog>())
            : null;
        var tunnelTls = new TunnelTls(credentials, policy, time, loggers.CreateLogger<TunnelTls>());
        var renewal = new CertificateRenewal(store, follower, time, loggers, renewed =>
        {
            logs?.UsePortalClient(NodeHttpClient.Create(renewed));
            tunnelTls.Use(renewed);
        });
        var flows = new FlowRegistry(options.Limits.IdleTimeout, time);
        var dialer = new FlowDialer(new EgressGuard(options.EgressAllow, options.ManagementNetworks), options.Limits.ConnectTimeout, options.ResolveHost);
        var recorder = options.Recorder ?? logs!;
        var connectors = new ConnectorLinks(policy, time, loggers.CreateLogger<ConnectorLinks>());
        var relays = new RelayRendezvous(options.Limits.HeaderTimeout, loggers.CreateLogger<RelayRendezvous>());
        var dataPath = new DataPath(credentials.Identity.TenantId.ToString(), credentials.Identity.SubjectId.ToString(), policy, dialer, flows, options.Limits, recorder, metrics, time)
        {
            Connectors = connectors,
            Relays = options.RelayPrivateFlows ? relays : null,
        };
        proxy = new ForwardProxy(dataPath, loggers.CreateLogger<ForwardProxy>());
        var devices = new DeviceConnectionLimit(options.Limits.MaxConnectionsPerDevice, loggers.CreateLogger<DeviceConnectionLimit>());
        var tunnel = tunnelEndpoint is null ? null : TunnelServer.Create(tunnelEndpoint, options.Limits, tunnelTls, new TunnelHandler(dataPath), connectors, relays, devices);
        var edge = new RunningEdge(app, tunnel, follower, renewal, policy, metrics, dataPath, logs, credentials.Identity, loggers.CreateLogger(typeof(EdgeHost)));
        try
        {
            metrics.Observe(policy, () => follower.Status);
            metrics.ObserveFlows(() => flows.Count);
            metrics.ObserveRelays(() => relays.Pending, () => relays.Paired, () => relays.Refused);
            metrics.ObserveDeviceConnections(() => devices.Closed);
            // Every newer bundle is put in force here, while the follower decides on it: one whose policy
            // does not compile is neither in force nor saved as last known good, so a restart starts from
            // the last good one. There is no second pass on the Changed event.
            follower.Check = edge.ApplyOrRefuse;
            follower.StatusChanged += edge.PortalLog.OnStatusChanged;
            OpsEndpoints.Map(app, edge);

            // Start() puts the last-known-good bundle in force (through Check) before the listener answers,
            // so /healthz never shows "starting" for it.
            if (follower.Start() is null && options.DrBundleFile is null)
            {
                HostLog.NoBundleYet(edge.Logger);
            }

            if (options.DrBundleFile is { } file)
            {
                ImportDrBundle(follower, file, edge.Logger);
            }

            await app.StartAsync(ct);
            if (tunnel is not null)
            {
                await tunnel.StartAsync(ct);
                edge.TunnelAddress = tunnel.Address;
            }

            renewal.Start();
            edge.OpsAddress = new Uri($"http://{BoundEndpoint(opsListener!)}");
            if (proxyListener is not null)
            {
                edge.ProxyAddress = BoundEndpoint(proxyListener);
                proxy.AdvertisedAddress = advertised ?? edge.ProxyAddress.ToString();
                ProxyLog.Listening(edge.Logger, edge.ProxyAddress.ToString());
            }

            HostLog.Started(edge.Logger, credentials.Identity.SubjectId, credentials.Identity.TenantId, edge.OpsAddress.ToString());
            return edge;
        }
        catch
        {
            await edge.DisposeAsync();
            throw;
        }
    }

    // A DR bundle the customer kept: in force when newer than the one on disk; refused with the reason otherwise.
    private static void ImportDrBundle(BundleFollower follower, string file, ILogger logger)
    {
        byte[] document;
        try
        {
            document = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NodeException(NodeErrorReason.CorruptStore, $"The DR bundle {file} cannot be read: {e.Message}");
        }

        var result = follower.Offer(document);
        if (result.Status == BundleVerificationStatus.VersionRollback)
        {
            HostLog.DrBundleOlder(logger, file, follower.Current?.Header.Version ?? 0);
            return;
        }

        if (!result.IsValid)
        {
            throw new NodeException(NodeErrorReason.CorruptStore, $"The DR bundle {file} is refused: {result.Reason}");
        }

        HostLog.DrBundleImported(logger, file, result.Bundle!.Header.Version);
    }

    private static System.Net.IPEndPoint BoundEndpoint(ListenOptions listener) =>
        listener.EndPoint as System.Net.IPEndPoint ?? throw new InvalidOperationException("The listener is not bound to an IP endpoint.");
}

/// <summary>A started edge: its policy in force, its view of the portal and its operations address.</summary>
public sealed class RunningEdge : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TunnelServer? _tunnel;
    private readonly BundleFollower _follower;
    private readonly CertificateRenewal _renewal;
    private readonly EdgeMetrics _metrics;
    private int _disposed;

    private readonly TransactionLog? _logs;

    internal RunningEdge(WebApplication app, TunnelServer? tunnel, BundleFollower follower, CertificateRenewal renewal, EdgePolicy policy, EdgeMetrics metrics, DataPath dataPath, TransactionLog? logs, NodeIdentity identity, ILogger logger)
    {
        _logs = logs;
        DataPath = dataPath;
        _app = app;
        _tunnel = tunnel;
        _follower = follower;
        _renewal = renewal;
        _metrics = metrics;
        Policy = policy;
        Identity = identity;
        Logger = logger;
        PortalLog = new PortalStatusLog(logger);
    }

    /// <summary>The address the operations endpoints listen on (with the real port when 0 was asked).</summary>
    public Uri OpsAddress { get; internal set; } = null!;

    /// <summary>Where the forward proxy listens (with the real port when 0 was asked); null when it is off.</summary>
    public System.Net.IPEndPoint? ProxyAddress { get; internal set; }

    /// <summary>Where the agent tunnel listener listens (with the real port when 0 was asked); null when it is off.</summary>
    public System.Net.IPEndPoint? TunnelAddress { get; internal set; }

    /// <summary>The listeners' shared data path: open flows, limits, egress.</summary>
    public DataPath DataPath { get; }

    /// <summary>This edge's identity as enrolled.</summary>
    public NodeIdentity Identity { get; }

    /// <summary>The policy in force.</summary>
    public EdgePolicy Policy { get; }

    /// <summary>How the edge stands with the portal.</summary>
    public BundleFollowerStatus Portal => _follower.Status;

    internal EdgeMetrics Metrics => _metrics;

    internal ILogger Logger { get; }

    internal PortalStatusLog PortalLog { get; }

    /// <summary>Completes when the host is asked to stop (SIGTERM, Ctrl-C) or <paramref name="ct"/> is cancelled.</summary>
    /// <param name="ct">Stops waiting.</param>
    public async Task WaitForShutdownAsync(CancellationToken ct = default)
    {
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStop = _app.Lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());
        using var onCancel = ct.Register(() => stopping.TrySetResult());
        await stopping.Task;
    }

    /// <summary>Stops the listener and the follower; the last-known-good bundle stays on disk.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        HostLog.Stopping(Logger);
        _follower.StatusChanged -= PortalLog.OnStatusChanged;
        try
        {
            // Graceful drain: the listeners stop accepting, open flows get the drain timeout to finish, then the rest are cut.
            DataPath.BeginStopping();
            using var drain = new CancellationTokenSource(DataPath.Limits.DrainTimeout);
            var stop = Task.WhenAll(_app.StopAsync(drain.Token), _tunnel?.StopAsync(drain.Token) ?? Task.CompletedTask);
            var cut = await DataPath.Flows.DrainAsync(DataPath.Limits.DrainTimeout);

            // Connector links are no flows: with the flows done they close, or the tunnel listener waits out the drain for them.
            await DataPath.Connectors.DisposeAsync();
            await stop;
            HostLog.Drained(Logger, cut);
        }
        finally
        {
            await DataPath.Connectors.DisposeAsync();
            await DataPath.Flows.DisposeAsync();
            if (_logs is not null)
            {
                // After the listeners stopped, so that the last flows' records are flushed too.
                await _logs.DisposeAsync();
            }

            await _renewal.DisposeAsync();
            await _follower.DisposeAsync();
            await _app.DisposeAsync();
            if (_tunnel is not null)
            {
                await _tunnel.DisposeAsync();
            }

            _metrics.Dispose();
        }
    }

    /// <summary>
    /// Why <paramref name="flow"/>'s opener has lost its access under a new bundle, or null when it has not: a revoked
    /// device, a device whose user is disabled, proxy credentials the bundle no longer holds (deleted, or their user
    /// disabled), or a relayed flow's connector that the bundle no longer lists.
    /// </summary>
    private static string? WhyNoLongerAdmitted(OpenFlow flow, EdgeIdentities identities, CompiledPolicy policy, PrivateAccess apps)
    {
        if (flow.Connector is { } connector && !apps.Connectors.ContainsKey(connector))
        {
            return $"connector {connector} is no longer an active connector of this tenant";
        }

        if (flow.Subject is { } device)
        {
            if (identities.Trust.IsRevoked(device))
            {
                return $"{device} was revoked";
            }

            if (identities.TryGetDeviceUser(device, out var user) && user is not null && policy.IsUserDisabled(user))
            {
                return "its user was disabled";
            }
        }

        return flow.Credential is { } credential && !identities.Credentials.TryAuthenticate(credential, out _)
            ? "its proxy credentials were deleted or their user disabled"
            : null;
    }

    /// <summary>
    /// Puts the bundle's policy and identities in force, or says why they cannot be (the follower then
    /// keeps the previous bundle, in force and on disk). A bundle already applied is left as it is.
    /// </summary>
    internal string? ApplyOrRefuse(VerifiedBundle bundle)
    {
        switch (Policy.Apply(bundle.Header.Version, bundle.Body))
        {
            case EdgePolicyOutcome.Applied:
                // Revocation is immediate: flows whose opener the new bundle no longer admits end now, not when they close.
                var identities = Policy.Identities;
                var policy = Policy.Holder.Current;
                var apps = Policy.Private;
                DataPath.Flows.AbortWhere(flow => WhyNoLongerAdmitted(flow, identities, policy, apps));
                DataPath.Connectors.CloseUnknown();
                return null;
            case EdgePolicyOutcome.Refused:
                return Policy.LastError ?? $"the policy of bundle {bundle.Header.Version} does not compile";
            default:
                return null;
        }
    }

}
