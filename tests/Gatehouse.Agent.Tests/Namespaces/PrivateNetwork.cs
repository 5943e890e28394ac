using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Gatehouse.Node.Credentials;
using Gatehouse.Node.Enrollment;
using Gatehouse.Testing;
using Gatehouse.Testing.Namespaces;
using Gatehouse.Testing.Portal;
using Gatehouse.Trust.Certificates;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Agent.Tests.Namespaces;

/// <summary>
/// A private network beside an <see cref="EndpointTopology"/>, reached only through app connectors:
/// <code>
///  test's own ns (portal, edge-1 on 10.N.1.1) ◄── 10.N.4.0/24 ──► connector ns (gatehouse-connector processes)
///                                                                      │ 10.N.5.0/24
///                                                                 private ns: app 10.N.5.2 (http 80, echo 7)
/// </code>
/// The endpoint has no route to 10.N.5.0/24; the connectors dial out to the edge and reach the portal on their
/// own 127.0.0.1 through a forwarder. <c>app.corp.internal</c> and <c>echo.corp.internal</c> resolve to the app
/// in the connectors' hosts file, and are app segments of connector group <c>dc-1</c> in the portal.
/// </summary>
internal sealed class PrivateNetwork : IAsyncDisposable
{
    public const string WebName = "app.corp.internal";
    public const string EchoName = "echo.corp.internal";
    public const int EchoPort = 7;

    private readonly EndpointTopology _topology;
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<NetworkNamespace> _namespaces = [];
    private readonly Dictionary<string, Process> _connectors = [];
    private readonly System.Text.StringBuilder _log = new();
    private Socket _echo = null!;
    private Task _echoLoop = Task.CompletedTask;
    private readonly CancellationTokenSource _stop = new();

    private PrivateNetwork(EndpointTopology topology) => _topology = topology;

    public NetworkNamespace Connectors { get; private set; } = null!;

    public NetworkNamespace Private { get; private set; } = null!;

    /// <summary>The private app's address.</summary>
    public string AppAddress { get; private set; } = null!;

    /// <summary>The connectors' address on the private link: the only client the app should ever see.</summary>
    public string ConnectorAddress { get; private set; } = null!;

    /// <summary>The web server (the same origin as the internet's, answering who asked).</summary>
    public InternetOrigin Web { get; private set; } = null!;

    /// <summary>Where the echo service's clients came from.</summary>
    public ConcurrentBag<IPAddress> EchoPeers { get; } = [];

    public ConnectorGroupDto Group { get; private set; } = null!;

    public static async Task<PrivateNetwork> StartAsync(EndpointTopology topology)
    {
        var network = new PrivateNetwork(topology);
        try
        {
            await network.BuildAsync();
            return network;
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }
    }

    private async Task BuildAsync()
    {
        var n = _topology.Subnet;
        var tag = _topology.Tag;
        AppAddress = $"10.{n}.5.2";
        ConnectorAddress = $"10.{n}.5.1";
        Connectors = Add(NetworkNamespace.Create($"gh-cn-{tag}"));
        Private = Add(NetworkNamespace.Create($"gh-pv-{tag}"));

        // connectors <-> this namespace: a route to the edge's address only.
        NetworkNamespace.HostIp("link", "add", $"ghc{tag}", "type", "veth", "peer", "name", $"ghC{tag}", "netns", Connectors.Name);
        NetworkNamespace.HostIp("addr", "add", $"10.{n}.4.1/24", "dev", $"ghc{tag}");
        NetworkNamespace.HostIp("link", "set", $"ghc{tag}", "up");
        Connectors.Ip("addr", "add", $"10.{n}.4.2/24", "dev", $"ghC{tag}");
        Connectors.Ip("link", "set", $"ghC{tag}", "up");
        Connectors.Ip("route", "add", $"{_topology.EdgeSideAddress}/32", "via", $"10.{n}.4.1");

        // connectors <-> private network: the app's only link.
        Connectors.Ip("link", "add", $"ghp{tag}", "type", "veth", "peer", "name", $"ghP{tag}", "netns", Private.Name);
        Connectors.Ip("addr", "add", $"{ConnectorAddress}/24", "dev", $"ghp{tag}");
        Connectors.Ip("link", "set", $"ghp{tag}", "up");
        Private.Ip("addr", "add", $"{AppAddress}/24", "dev", $"ghP{tag}");
        Private.Ip("link", "set", $"ghP{tag}", "up");
        Connectors.WriteEtcFile("hosts", $"127.0.0.1 localhost\n{AppAddress} {WebName} {EchoName}\n");

        Web = new InternetOrigin(Private, IPAddress.Parse(AppAddress));
        _owned.Add(Web);
        _echo = Private.CreateSocket(() =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Parse(AppAddress), EchoPort));
            socket.Listen(64);
            return socket;
        });
        _echoLoop = EchoAsync();
        _owned.Add(new LoopbackForwarder(Connectors, _topology.Agent.Portal.BaseAddress.Port));

        var admin = _topology.Agent.Admin;
        Group = await PostAsync<ConnectorGroupDto>(admin, "connector-groups", new NamedObjectRequest("dc-1"));
        await PostAsync<AppSegmentDto>(admin, "app-segments", new AppSegmentRequest("corp-web", Domains: [WebName], Ports: ["80"], ConnectorGroupIds: [Group.Id]));
        await PostAsync<AppSegmentDto>(admin, "app-segments", new AppSegmentRequest("corp-echo", Domains: [EchoName], Ports: [EchoPort.ToString(System.Globalization.CultureInfo.InvariantCulture)], ConnectorGroupIds: [Group.Id]));
    }

    private NetworkNamespace Add(NetworkNamespace created)
    {
        _namespaces.Add(created);
        return created;
    }

    /// <summary>Replaces the access policy.</summary>
    public async Task PutAccessPolicyAsync(params PolicyRuleSpec[] rules) =>
        (await _topology.Agent.Admin.PutAsJsonAsync("access-policy", new PolicyDocument(rules), TestPortal.Json)).EnsureSuccessStatusCode();

    /// <summary>Enrolls a connector of <c>dc-1</c> and starts <c>gatehouse-connector run</c> in the connectors' namespace.</summary>
    public async Task<string> StartConnectorAsync(string name)
    {
        var admin = _topology.Agent.Admin;
        var key = await PostAsync<CreateProvisioningKeyResponse>(admin, "provisioning-keys", new CreateProvisioningKeyRequest(name, "connector", Group.Id, null, 1));
        var store = new NodeCredentialStore(Path.Combine(_topology.Agent.StateDirectory, "..", name));
        using var credentials = await new NodeEnrollment().EnrollServiceAsync(store, IdentityKinds.Connector, _topology.Agent.Portal.BaseAddress, PortalTrust.Pinned(_topology.Agent.Portal.TlsCertificatePem), key.Key, name, null).DefaultTimeout();
        var directory = AppContext.BaseDirectory;
        var process = Connectors.Start(
            "dotnet", "exec", "--runtimeconfig", Path.Combine(directory, "Gatehouse.Agent.Tests.runtimeconfig.json"),
            "--depsfile", Path.Combine(directory, "Gatehouse.Agent.Tests.deps.json"), Path.Combine(directory, "gatehouse-connector.dll"),
            "run", "--state-dir", store.Directory, "--health-interval", "1");
        process.OutputDataReceived += (_, e) => Log(name, e.Data);
        process.ErrorDataReceived += (_, e) => Log(name, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _connectors[name] = process;
        return credentials.Identity.SubjectId.ToString();
    }

    /// <summary>Kills a connector process at once (SIGKILL): no goodbye to the edge.</summary>
    public void KillConnector(string name)
    {
        var process = _connectors[name];
        using (var kill = Process.Start("kill", ["-KILL", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }

        process.WaitForExit();
    }

    /// <summary>What the connectors wrote, for failure messages.</summary>
    public string ConnectorLog
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    private void Log(string name, string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.Append(name).Append(": ").AppendLine(line);
            }
        }
    }

    private async Task EchoAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var client = await _echo.AcceptAsync(_stop.Token);
                var peer = ((IPEndPoint)client.RemoteEndPoint!).Address;
                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        var buffer = new byte[4096];
                        var first = true;
                        try
                        {
                            int n;
                            while ((n = await client.ReceiveAsync(buffer)) > 0)
                            {
                                if (first)
                                {
                                    EchoPeers.Add(peer);
                                    first = false;
                                }

                                await client.SendAsync(buffer.AsMemory(0, n));
                            }

                            client.Shutdown(SocketShutdown.Send);
                        }
                        catch (SocketException)
                        {
                            // The peer went away.
                        }
                    }
                });
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    private static async Task<T> PostAsync<T>(HttpClient admin, string path, object body)
    {
        var response = await admin.PostAsJsonAsync(path, body, TestPortal.Json);
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<T>(TestPortal.Json))!;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _connectors.Values)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }

        await _stop.CancelAsync();
        _echo?.Dispose();
        await _echoLoop;
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }

        foreach (var created in Enumerable.Reverse(_namespaces))
        {
            created.Dispose();
        }

        _stop.Dispose();
    }
}
