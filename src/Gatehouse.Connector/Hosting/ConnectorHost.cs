using System.Net;
using System.Net.Security;
using Gatehouse.Connector.Config;
using Gatehouse.Connector.Flows;
using Gatehouse.Connector.Health;
using Gatehouse.Connector.Links;
using Gatehouse.Flows;
using Gatehouse.Hosting;
using Gatehouse.Node;
using Gatehouse.Node.Config;
using Gatehouse.Node.Credentials;
using Gatehouse.Node.Enrollment;
using Gatehouse.Policy.Sources;
using Gatehouse.Trust.Bundles;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gatehouse.Connector.Hosting;

/// <summary>Starts an app connector on its enrolled credentials.</summary>
/// <remarks>
/// <code>
/// credentials ──► BundleFollower ──Check──► ConnectorConfig (edges, own group, served segments, servers to check)
///                                               │                       │
/// Kestrel, HTTP/2, on EdgeLinkTransport ◄── EdgeDialer (one link per edge)   ServerHealth (every 5 s) ──► status to the portal
///   └─ ConnectorFlowHandler: status for the edges; flows: segment check ─► resolve ─► healthy addresses ─► dial ─► relay
/// </code>
/// </remarks>
public static class ConnectorHost
{
    /// <summary>Loads the credentials, puts the last-known-good config in force and starts linking to the edges.</summary>
    /// <exception cref="NodeException"><see cref="NodeErrorReason.NotEnrolled"/> when the state directory holds no enrollment.</exception>
    public static async Task<RunningConnector> StartAsync(ConnectorOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var store = new NodeCredentialStore(options.StateDirectory);
        var credentials = store.Load()
            ?? throw new NodeException(NodeErrorReason.NotEnrolled, $"This connector is not enrolled: {store.Directory} holds no enrollment. Run `gatehouse-connector enroll` first.");
        var time = options.Time ?? TimeProvider.System;
        var connectorId = credentials.Identity.SubjectId.ToString();

        var builder = ServerHost.CreateSlimBuilder();
        builder.Services.AddSingleton<IConnectionListenerFactory, EdgeLinkTransport>();
        builder.Services.AddSingleton<IHostLifetime, NoConsoleLifetime>();
        var links = new EdgeLinkEndPoint();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Limits.MinResponseDataRate = null;
            kestrel.Limits.Http2.MaxStreamsPerConnection = 100_000;
            kestrel.Limits.Http2.InitialConnectionWindowSize = 16 * 1024 * 1024;
            kestrel.Limits.Http2.InitialStreamWindowSize = 8 * 1024 * 1024;

            // An edge that vanishes without closing (its machine gone) is noticed by the pings, not never.
            kestrel.Limits.Http2.KeepAlivePingDelay = TimeSpan.FromSeconds(5);
            kestrel.Limits.Http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(5);
            kestrel.Listen(links, listen => listen.Protocols = HttpProtocols.Http2);
        });

        var app = builder.Build();
        var logging = app.Services.GetRequiredService<ILoggerFactory>();
        var follower = new BundleFollower(credentials, store.LastKnownGood, options.Follower, time, logging.CreateLogger<BundleFollower>());
        var identity = new CurrentCredentials(credentials);
        var renewal = new CertificateRenewal(store, follower, time, logging, identity.Use);
        var dialer = new EdgeDialer(identity.Certificate, credentials.TenantCa, credentials.Identity.TenantId.ToString(), time, logging.CreateLogger<EdgeDialer>());
        links.Dialer = dialer;
        var resolve = options.ResolveHost ?? ((host, token) => Dns.GetHostAddressesAsync(host, token));
        var health = new ServerHealth(options.HealthInterval, options.HealthTimeout, resolve, time);
        var flows = new FlowRegistry(options.IdleTimeout, time);
        var flowDialer = new FlowDialer(new EgressGuard(options.EgressAllow), options.ConnectTimeout, options.ResolveHost);
        var connector = new RunningConnector(app, follower, renewal, dialer, health, flows, identity, options, logging.CreateLogger(typeof(ConnectorHost)));
        var relayEnd = new RelayedFlowEnd(identity.ServerContext, credentials.TenantCa, credentials.Identity.TenantId.ToString(), flows, logging.CreateLogger<RelayedFlowEnd>());
        var handler = new ConnectorFlowHandler(() => connector.Config, flowDialer, flows, health, dialer, relayEnd, connectorId, logging.CreateLogger<ConnectorFlowHandler>());
        connector.Handler = handler;
        app.Run(handler.HandleAsync);
        try
        {
            follower.Check = connector.ApplyOrRefuse;
            health.Changed += (_, _) => connector.ReportSoon();
            if (follower.Start() is null)
            {
                ConnectorLog.NoBundleYet(connector.Logger);
            }

            health.Start();
            await app.StartAsync(ct);
            renewal.Start();
            connector.StartReporting();
            ConnectorLog.Started(connector.Logger, connectorId, credentials.Identity.TenantId.ToString());
            return connector;
        }
        catch
        {
            await connector.DisposeAsync();
            throw;
        }
    }

    /// <summary>The credentials in use, swapped when the certificate is renewed.</summary>
    internal sealed class CurrentCredentials(NodeCredentials initial)
    {
        private volatile NodeCredentials _credentials = initial;
        private volatile System.Security.Cryptography.X509Certificates.X509Certificate2 _certificate = initial.CreateCertificateWithKey();
        private volatile SslStreamCertificateContext? _serverContext;

        public NodeCredentials Credentials => _credentials;

        public System.Security.Cryptography.X509Certificates.X509Certificate2 Certificate() => _certificate;

        /// <summary>The certificate as the TLS server of relayed flows presents it (with the tenant CA), made once per certificate.</summary>
        public SslStreamCertificateContext ServerContext() =>
            _serverContext ??= SslStreamCertificateContext.Create(_certificate, [_credentials.TenantCa], offline: true);

        public void Use(NodeCredentials renewed)
        {
            _certificate = renewed.CreateCertificateWithKey();
            _credentials = renewed;
            _serverContext = null;
        }
    }

    /// <summary>The connector's own command owns SIGTERM; the host does not print "Application started".</summary>
    private sealed class NoConsoleLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>A started app connector.</summary>
public sealed class RunningConnector : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly BundleFollower _follower;
    private readonly EdgeDialer _dialer;
    private readonly ServerHealth _health;
    private readonly FlowRegistry _flows;
    private readonly CertificateRenewal _renewal;
    private readonly ConnectorHost.CurrentCredentials _credentials;
    private readonly ConnectorOptions _options;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _reportNow = new(0);
    private volatile ConnectorConfig _config = ConnectorConfig.Empty;
    private Task _reporting = Task.CompletedTask;
    private int _disposed;

    internal RunningConnector(WebApplication app, BundleFollower follower, CertificateRenewal renewal, EdgeDialer dialer, ServerHealth health, FlowRegistry flows, ConnectorHost.CurrentCredentials credentials, ConnectorOptions options, ILogger logger)
    {
        _app = app;
        _follower = follower;
        _renewal = renewal;
        _dialer = dialer;
        _health = health;
        _flows = flows;
        _credentials = credentials;
        _options = options;
        Logger = logger;
    }

    /// <summary>This connector's identity.</summary>
    public NodeIdentity Identity => _credentials.Credentials.Identity;

    /// <summary>The config in force.</summary>
    public ConnectorConfig Config => _config;

    /// <summary>Flows open through it.</summary>
    public int OpenFlows => _flows.Count;

    /// <summary>How it stands with the portal.</summary>
    public BundleFollowerStatus Portal => _follower.Status;

    internal ConnectorFlowHandler Handler { get; set; } = null!;

    internal ServerHealth Health => _health;

    internal EdgeDialer Dialer => _dialer;

    internal ILogger Logger { get; }

    /// <summary>Completes when the host is asked to stop or <paramref name="ct"/> is cancelled.</summary>
    public async Task WaitForShutdownAsync(CancellationToken ct = default)
    {
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStop = _app.Lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());
        using var onCancel = ct.Register(() => stopping.TrySetResult());
        await stopping.Task;
    }

    /// <summary>Puts a bundle's config in force, or says why it cannot be (the follower keeps the previous one).</summary>
    internal string? ApplyOrRefuse(VerifiedBundle bundle)
    {
        ConnectorConfig config;
        try
        {
            config = ConnectorConfig.FromBundleBody(bundle.Body, Identity.SubjectId.ToString());
        }
        catch (PolicyFormatException e)
        {
            return e.Message;
        }

        _config = config;

        // Linking says "send me flows": only once a config lists this connector, so says which segments it serves.
        // A bundle published before its enrollment does not, and the edge may know the connector sooner than it does.
        _dialer.UseEdges(config.GroupId is null ? [] : _options.Edges is { Count: > 0 } pinned ? [.. pinned.Select(e => new EdgeTarget(e, e))] : config.Edges);

        _health.Use(config.HealthTargets);
        ConnectorLog.ConfigInForce(Logger, bundle.Header.Version, config.SegmentNames.Count, config.Edges.Count, config.GroupId ?? "(none)");
        return null;
    }

    internal void ReportSoon() => _reportNow.Release();

    internal void StartReporting() => _reporting = ReportLoopAsync(_stop.Token);

    private async Task ReportLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                // A client per report: after a renewal the next report carries the new certificate.
                using var portal = NodeHttpClient.Create(_credentials.Credentials, TimeSpan.FromSeconds(10));
                using var response = await portal.PostAsJsonAsync("api/v1/connector/status", Handler.Status(), ct);
                if (!response.IsSuccessStatusCode)
                {
                    ConnectorLog.ReportRefused(Logger, (int)response.StatusCode);
                }

                await _reportNow.WaitAsync(_options.ReportInterval, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                ConnectorLog.ReportFailed(Logger, e.Message);
                try
                {
                    await Task.Delay(_options.ReportInterval, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Closes the links, drains the open flows briefly and stops; the last-known-good config stays on disk.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        ConnectorLog.Stopping(Logger);
        await _stop.CancelAsync();
        await _reporting;
        await _dialer.DisposeAsync();
        using (var drain = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await _app.StopAsync(drain.Token);
        }

        await _flows.DrainAsync(TimeSpan.FromSeconds(1));
        await _flows.DisposeAsync();
        await _health.DisposeAsync();
        await _renewal.DisposeAsync();
        await _follower.DisposeAsync();
        await _app.DisposeAsync();
        _stop.Dispose();
        _reportNow.Dispose();
    }
}

/// <summary>Log events of the connector's host (6100–6149).</summary>
internal static partial class ConnectorLog
{
    [LoggerMessage(6100, LogLevel.Information, "Connector {ConnectorId} of tenant {TenantId} started")]
    public static partial void Started(ILogger logger, string connectorId, string tenantId);

    [LoggerMessage(6101, LogLevel.Warning, "No config yet: no last-known-good bundle on disk; linking to no edge until the portal sends one")]
    public static partial void NoBundleYet(ILogger logger);

    [LoggerMessage(6102, LogLevel.Information, "Config v{Version} in force: {Segments} app segments served, {Edges} edges, connector group {Group}")]
    public static partial void ConfigInForce(ILogger logger, long version, int segments, int edges, string group);

    [LoggerMessage(6103, LogLevel.Warning, "The portal refused the status report: HTTP {Status}")]
    public static partial void ReportRefused(ILogger logger, int status);

    [LoggerMessage(6104, LogLevel.Warning, "Could not report status to the portal: {Reason}")]
    public static partial void ReportFailed(ILogger logger, string reason);

    [LoggerMessage(6105, LogLevel.Information, "Connector stopping")]
    public static partial void Stopping(ILogger logger);
}
