using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Gatehouse.Connector.Hosting;
using Gatehouse.Edge.Commands;
using Gatehouse.Edge.Flows;
using Gatehouse.Edge.Hosting;
using Gatehouse.Node.Config;
using Gatehouse.Node.Credentials;
using Gatehouse.Node.Enrollment;
using Gatehouse.Testing;
using Gatehouse.Testing.Portal;
using Gatehouse.Trust.Certificates;
using Gatehouse.Tunnel;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Logs;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Connector.Tests;

/// <summary>
/// A real portal, an edge with its tunnel listener, a user in the engineering group with a device, a connector
/// group, an app segment <c>echo.corp.internal</c> on an echo server's port, an access policy that lets
/// engineering in, and connectors started on demand; one per test. The private app listens on loopback, which
/// only the connectors may reach (the edge refuses it).
/// </summary>
internal sealed class PrivateAccessFixture : IAsyncDisposable
{
    public const string AppName = "echo.corp.internal";

    private static readonly BundleFollowerOptions Fast = new() { WaitSeconds = 5, MinBackoff = TimeSpan.FromMilliseconds(100), MaxBackoff = TimeSpan.FromMilliseconds(500) };

    private readonly string _root = Directory.CreateTempSubdirectory("gatehouse-private-").FullName;
    private readonly List<RunningConnector> _connectors = [];
    private int _connectorCount;
    private string _portalCa = null!;
    private string? _drEdgeTunnel;
    private bool _edgeReachesApp;
    private bool _relayPrivateFlows = true;

    public TestPortal Portal { get; private set; } = null!;

    public HttpClient Admin { get; private set; } = null!;

    public RunningEdge Edge { get; private set; } = null!;

    public Recorder Records { get; } = new();

    /// <summary>The tenant's DR edge, once <see cref="StartDrEdgeAsync"/> started it; null while it is stopped.</summary>
    public RunningEdge? DrEdge { get; private set; }

    /// <summary>The DR edge's state directory (credentials and last-known-good bundle).</summary>
    public string DrEdgeDirectory => Path.Combine(_root, "dr-edge");

    /// <summary>Where the DR edge is enrolled and its tunnel listener listens (HOST:PORT); null until it is enrolled.</summary>
    public string? DrEdgeAddress => _drEdgeTunnel;

    public EchoServer Echo { get; } = new();

    /// <summary>Where <see cref="AppName"/> resolves inside the private network (the connectors' resolver).</summary>
    public ConcurrentDictionary<string, IPAddress[]> PrivateDns { get; } = new(StringComparer.OrdinalIgnoreCase);

    public ConnectorGroupDto Group { get; private set; } = null!;

    public AppSegmentDto Segment { get; private set; } = null!;

    public UserDto Engineer { get; private set; } = null!;

    public UserDto Outsider { get; private set; } = null!;

    public NodeCredentials EngineerDevice { get; private set; } = null!;

    public NodeCredentials OutsiderDevice { get; private set; } = null!;

    /// <summary>Makes a proxy credential for <paramref name="user"/> and waits until the edge takes it.</summary>
    /// <returns>The <c>Proxy-Authorization</c> header value.</returns>
    public async Task<string> ProxyCredentialAsync(UserDto user)
    {
        var created = await PostAsync<CreateProxyCredentialResponse>($"users/{user.Id}/proxy-credentials", new CreateProxyCredentialRequest("browser"));
        var header = "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{user.Email}:{created.Password}"));
        await WaitForAsync(() => Edge.Policy.Identities.Credentials.TryAuthenticate(header, out _), $"the edge to take {user.Email}'s proxy credential");
        return header;
    }

    /// <param name="edgeReachesApp">
    /// Whether the edge itself could reach the app: it resolves <see cref="AppName"/> to loopback and its egress
    /// safety allows loopback, so that a test shows it still hands the app's flows to a connector.
    /// </param>
    /// <param name="relayPrivateFlows">Whether the edge relays agents' private flows end to end (its default).</param>
    public static async Task<PrivateAccessFixture> StartAsync(bool edgeReachesApp = false, bool relayPrivateFlows = true)
    {
        var fixture = new PrivateAccessFixture { _edgeReachesApp = edgeReachesApp, _relayPrivateFlows = relayPrivateFlows };
        try
        {
            await fixture.InitializeAsync();
            return fixture;
        }
        catch
        {
            await fixture.DisposeAsync();
            throw;
        }
    }

    private async Task InitializeAsync()
    {
        PrivateDns[AppName] = [IPAddress.Loopback];
        Portal = await TestPortal.StartAsync();
        Admin = await Portal.SignInAsync();
        var engineering = await PostAsync<GroupDto>("groups", new CreateGroupRequest("engineering"));
        Engineer = await PostAsync<UserDto>("users", new CreateUserRequest("tina@example.test", GroupIds: [engineering.Id]));
        Outsider = await PostAsync<UserDto>("users", new CreateUserRequest("otto@example.test"));
        Group = await PostAsync<ConnectorGroupDto>("connector-groups", new NamedObjectRequest("dc-1"));
        Segment = await PostAsync<AppSegmentDto>("app-segments", new AppSegmentRequest("corp-echo", Domains: [AppName], Ports: [Echo.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)], ConnectorGroupIds: [Group.Id]));
        await PutAccessPolicyAsync(new PolicyRuleSpec { Name = "engineering-echo", Action = PolicyActions.Allow, Criteria = new PolicyCriteria { Groups = ["engineering"], AppSegments = ["corp-echo"] } });

        _portalCa = Path.Combine(_root, "portal-ca.pem");
        await File.WriteAllTextAsync(_portalCa, Portal.TlsCertificatePem);

        // Listening where it is enrolled, so that a connector following its bundle's edges reaches it.
        var tunnel = await EnrollEdgeAsync("edge-1", Path.Combine(_root, "edge"));
        Edge = await StartEdgeAsync(Path.Combine(_root, "edge"), tunnel, disasterRecovery: false).DefaultTimeout();

        EngineerDevice = await EnrollDeviceAsync("laptop-1", Engineer);
        OutsiderDevice = await EnrollDeviceAsync("laptop-2", Outsider);
        await WaitForAsync(() => Edge.Policy.Identities.TryGetDeviceUser(OutsiderDevice.Identity.SubjectId.ToString(), out _), "the edge to know the devices");
    }

    // Enrolls an edge at a free loopback port, which its tunnel listener then takes: the portal lists that address.
    private async Task<string> EnrollEdgeAsync(string name, string stateDirectory)
    {
        var address = $"127.0.0.1:{FreePort.GetLoopbackTcpPort()}";
        var key = await PostAsync<CreateProvisioningKeyResponse>("provisioning-keys", new CreateProvisioningKeyRequest(name, "edge", null, null, 1));
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await EdgeCommand.RunAsync(["enroll", "--portal", Portal.BaseAddress.ToString(), "--portal-ca", _portalCa, "--provisioning-key", key.Key, "--name", name, "--address", address, "--state-dir", stateDirectory], stdout, stderr, CancellationToken.None).DefaultTimeout();
        Assert.True(code == EdgeExitCodes.Ok, stderr.ToString());
        return address;
    }

    private Task<RunningEdge> StartEdgeAsync(string stateDirectory, string tunnel, bool disasterRecovery, string? drBundleFile = null) =>
        EdgeHost.StartAsync(new EdgeOptions
        {
            StateDirectory = stateDirectory,
            OpsListen = "http://127.0.0.1:0",
            ProxyListen = "127.0.0.1:0",
            TunnelListen = tunnel,
            EgressAllow = _edgeReachesApp ? [IPNetwork.Parse("127.0.0.0/8")] : [],
            ResolveHost = _edgeReachesApp ? ResolvePrivate : null,
            Follower = Fast,
            Recorder = Records,
            DisasterRecovery = disasterRecovery,
            DrBundleFile = drBundleFile,
            RelayPrivateFlows = _relayPrivateFlows,
        });

    /// <summary>Enrolls the tenant's DR edge (once); it stays stopped until <see cref="StartDrEdgeAsync"/>.</summary>
    /// <returns>Its id.</returns>
    public async Task<Guid> EnrollDrEdgeAsync()
    {
        _drEdgeTunnel ??= await EnrollEdgeAsync("dr-edge-1", DrEdgeDirectory);
        return new NodeCredentialStore(DrEdgeDirectory).Load()!.Identity.SubjectId;
    }

    /// <summary>Enrolls the DR edge unless it is, and starts it in DR mode at its enrolled address.</summary>
    /// <param name="drBundleFile">An exported DR bundle to import at start.</param>
    public async Task<RunningEdge> StartDrEdgeAsync(string? drBundleFile = null)
    {
        Assert.Null(DrEdge);
        await EnrollDrEdgeAsync();
        DrEdge = await StartEdgeAsync(DrEdgeDirectory, _drEdgeTunnel!, disasterRecovery: true, drBundleFile).DefaultTimeout();
        return DrEdge;
    }

    /// <summary>Stops the DR edge; its state directory stays.</summary>
    public async Task StopDrEdgeAsync()
    {
        if (DrEdge is { } edge)
        {
            DrEdge = null;
            await edge.DisposeAsync();
        }
    }

    /// <summary>Puts DR settings that name the DR edge (enrolling it if need be), with a fresh DR key.</summary>
    /// <param name="rules">The DR policy's rules; traffic they do not cover is blocked.</param>
    public async Task<DrSettingsDto> PutDrSettingsAsync(params PolicyRuleSpec[] rules)
    {
        var drEdge = await EnrollDrEdgeAsync();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new PutDrSettingsRequest("_gatehouse-dr.corp.test", key.ExportSubjectPublicKeyInfoPem(), [drEdge], Rules: rules);
        var response = await Admin.PutAsJsonAsync("dr", request, TestPortal.Json);
        Assert.True(response.IsSuccessStatusCode, $"PUT dr: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<DrSettingsDto>(TestPortal.Json))!;
    }

    public async Task<T> PostAsync<T>(string path, object body)
    {
        var response = await Admin.PostAsJsonAsync(path, body, TestPortal.Json);
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<T>(TestPortal.Json))!;
    }

    /// <summary>
    /// Makes <paramref name="name"/> (<c>LABEL.corp.internal</c>) at <paramref name="port"/> on loopback a private app of
    /// its own segment, <c>corp-LABEL</c>, served by the fixture's connector group, that the engineers may reach too;
    /// waits until the edge knows it.
    /// </summary>
    /// <returns>The segment's name.</returns>
    public async Task<string> AddAppAsync(string name, int port)
    {
        var label = name[..name.IndexOf('.', StringComparison.Ordinal)];
        var segment = $"corp-{label}";
        PrivateDns[name] = [IPAddress.Loopback];
        await PostAsync<AppSegmentDto>("app-segments", new AppSegmentRequest(segment, Domains: [name], Ports: [port.ToString(System.Globalization.CultureInfo.InvariantCulture)], ConnectorGroupIds: [Group.Id]));
        await PutAccessPolicyAsync(
            new PolicyRuleSpec { Name = "engineering-echo", Action = PolicyActions.Allow, Criteria = new PolicyCriteria { Groups = ["engineering"], AppSegments = ["corp-echo"] } },
            new PolicyRuleSpec { Name = $"engineering-{label}", Action = PolicyActions.Allow, Criteria = new PolicyCriteria { Groups = ["engineering"], AppSegments = [segment] } });
        await WaitForAsync(() => Edge.Policy.Private.SegmentConnectorGroups.ContainsKey(segment) && Edge.Policy.Private.Access.RuleCount == 2, $"the edge to know {name} and its rule");
        return segment;
    }

    public async Task PutAccessPolicyAsync(params PolicyRuleSpec[] rules)
    {
        var response = await Admin.PutAsJsonAsync("access-policy", new PolicyDocument(rules), TestPortal.Json);
        Assert.True(response.IsSuccessStatusCode, $"PUT access-policy: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private async Task<NodeCredentials> EnrollDeviceAsync(string name, UserDto user)
    {
        var token = await PostAsync<CreateEnrollmentTokenResponse>("enrollment-tokens", new CreateEnrollmentTokenRequest(name, user.Id, null, 1));
        var store = new NodeCredentialStore(Path.Combine(_root, name));
        return await new NodeEnrollment().EnrollDeviceAsync(store, Portal.BaseAddress, PortalTrust.Pinned(Portal.TlsCertificatePem), token.Token, name, "linux", "test").DefaultTimeout();
    }

    /// <summary>Enrolls a connector and starts it, linked to the edge.</summary>
    /// <param name="group">Its connector group; the fixture's by default.</param>
    /// <param name="waitForLink">Whether to wait until the edges it dials (those running here) have its link.</param>
    /// <param name="afterEnrollment">Runs between enrollment and start, for example to stop the portal.</param>
    /// <param name="edges">The edges (HOST:PORT) it links to: the fixture's edge when null; its bundle's edges when empty.</param>
    public async Task<RunningConnector> StartConnectorAsync(ConnectorGroupDto? group = null, bool waitForLink = true, Func<Task>? afterEnrollment = null, IReadOnlyList<string>? edges = null)
    {
        var name = $"connector-{Interlocked.Increment(ref _connectorCount)}";
        var key = await PostAsync<CreateProvisioningKeyResponse>("provisioning-keys", new CreateProvisioningKeyRequest(name, "connector", (group ?? Group).Id, null, 1));
        var store = new NodeCredentialStore(Path.Combine(_root, name));
        using (await new NodeEnrollment().EnrollServiceAsync(store, IdentityKinds.Connector, Portal.BaseAddress, PortalTrust.Pinned(Portal.TlsCertificatePem), key.Key, name, null).DefaultTimeout())
        {
        }

        if (afterEnrollment is not null)
        {
            await afterEnrollment();
        }

        edges ??= [Edge.TunnelAddress!.ToString()];
        var connector = await ConnectorHost.StartAsync(new ConnectorOptions
        {
            StateDirectory = store.Directory,
            Edges = edges,
            EgressAllow = [IPNetwork.Parse("127.0.0.0/8")],
            HealthInterval = TimeSpan.FromMilliseconds(200),
            HealthTimeout = TimeSpan.FromMilliseconds(500),
            ReportInterval = TimeSpan.FromSeconds(1),
            ResolveHost = ResolvePrivate,
            Follower = Fast,
        }).DefaultTimeout();
        _connectors.Add(connector);
        if (waitForLink)
        {
            foreach (var edge in new[] { Edge, DrEdge }.OfType<RunningEdge>().Where(e => edges.Count == 0 || edges.Contains(e.TunnelAddress!.ToString())))
            {
                await WaitForLinkAsync(edge, connector, $"{name} to link to edge {edge.Identity.SubjectId}");
            }
        }

        return connector;
    }

    /// <summary>Waits until <paramref name="edge"/> has a live link from <paramref name="connector"/>.</summary>
    public static Task WaitForLinkAsync(RunningEdge edge, RunningConnector connector, string what)
    {
        var id = connector.Identity.SubjectId.ToString();
        return WaitForAsync(() => edge.DataPath.Connectors.Live.Any(l => l.ConnectorId == id), what);
    }

    private Task<IPAddress[]> ResolvePrivate(string host, CancellationToken ct) =>
        PrivateDns.TryGetValue(host, out var addresses) ? Task.FromResult(addresses) : Dns.GetHostAddressesAsync(host, ct);

    /// <summary>The device's tunnel client, pointed at the edge.</summary>
    public TunnelClient Client(NodeCredentials device) => Client(device, Edge);

    /// <summary>The device's tunnel client, pointed at <paramref name="edge"/>.</summary>
    public static TunnelClient Client(NodeCredentials device, RunningEdge edge) =>
        new(edge.TunnelAddress!.ToString(), device.CreateCertificateWithKey(), device.TenantCa, device.Identity.TenantId.ToString());

    /// <summary>The device's tunnel client as the agent makes it: it offers to take private flows relayed end to end.</summary>
    public TunnelClient RelayClient(NodeCredentials device) =>
        new(Edge.TunnelAddress!.ToString(), device.CreateCertificateWithKey(), device.TenantCa, device.Identity.TenantId.ToString()) { OfferRelay = true };

    /// <summary>Opens the private app from <paramref name="device"/> through <paramref name="edge"/> (the fixture's edge by default); the result says whether it opened.</summary>
    public async Task<TunnelOpenResult> OpenAppAsync(NodeCredentials device, string host = AppName, int? port = null, RunningEdge? edge = null)
    {
        using var client = Client(device, edge ?? Edge);
        var opened = await client.OpenAsync(host, port ?? Echo.Port).DefaultTimeout();
        if (opened.Stream is { } stream)
        {
            // The caller gets a stream that outlives this client: read the echo here.
            var echoed = await EchoAsync(stream, "ping");
            await stream.DisposeAsync();
            return opened with { Stream = null, Reason = echoed };
        }

        return opened;
    }

    /// <summary>Fails with the edge's reason unless the flow opened and echoed.</summary>
    public static void AssertOpened(TunnelOpenResult opened) =>
        Assert.True(opened.Status == 200, $"the flow did not open: {opened.Status} {opened.Reason}");

    public static async Task<string> EchoAsync(Stream stream, string text)
    {
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(text));
        await stream.FlushAsync();
        var buffer = new byte[text.Length];
        var read = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), timeout.Token);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        return System.Text.Encoding.ASCII.GetString(buffer, 0, read);
    }

    public static async Task WaitForAsync(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        while (!condition())
        {
            try
            {
                await Task.Delay(20, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"timed out waiting for {what}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connector in _connectors)
        {
            await connector.DisposeAsync();
        }

        if (Edge is not null)
        {
            await Edge.DisposeAsync();
        }

        await StopDrEdgeAsync();

        EngineerDevice?.Dispose();
        OutsiderDevice?.Dispose();
        Echo.Dispose();
        Admin?.Dispose();
        if (Portal is not null)
        {
            await Portal.DisposeAsync();
        }

        Directory.Delete(_root, recursive: true);
    }

    /// <summary>Collects the edge's transaction records.</summary>
    internal sealed class Recorder : ITransactionRecorder
    {
        private readonly ConcurrentQueue<TransactionLogRecord> _records = new();

        public IReadOnlyList<TransactionLogRecord> All => [.. _records];

        public void Record(TransactionLogRecord record) => _records.Enqueue(record);

        public async Task<TransactionLogRecord> WaitForAsync(Func<TransactionLogRecord, bool> match)
        {
            using var timeout = new CancellationTokenSource(TestTimeouts.Default);
            while (true)
            {
                if (_records.FirstOrDefault(match) is { } found)
                {
                    return found;
                }

                await Task.Delay(20, timeout.Token);
            }
        }
    }
}
