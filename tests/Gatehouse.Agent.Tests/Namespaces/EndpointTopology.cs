using System.Collections.Concurrent;
using System.Net;
using Gatehouse.Testing.Namespaces;
using Gatehouse.Wire.Agent;

namespace Gatehouse.Agent.Tests.Namespaces;

/// <summary>
/// The hosts of ARCHITECTURE.md's test topology, built with <c>ip netns</c> and veth pairs:
/// <code>
///  endpoint ns (agent service + data plane, curl, dig)
///    │ 10.N.1.0/24                 └─ 10.N.2.0/24 (default route) ─┐
///  test's own ns: portal, edge-1 (tunnel on 10.N.1.1)              │
///    │ 10.N.3.0/24 (route to 198.18.N.10)                          │
///  internet ns: origin 198.18.N.10 (http 80, https 443, dns 53) ◄──┘
/// </code>
/// The endpoint reaches the portal on its own 127.0.0.1 through a forwarder, as an installed agent
/// reaches a portal's public name. The edge resolves every name under <see cref="InternetOrigin.Zone"/>
/// to the origin and records the names it was asked for.
/// </summary>
internal sealed class EndpointTopology : IAsyncDisposable
{
    private static int _instances;

    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<NetworkNamespace> _namespaces = [];
    private AgentServiceProcess? _service;
    private string _tag = null!;

    public NetworkNamespace Endpoint { get; private set; } = null!;

    /// <summary>N in this topology's 10.N.x.y networks, unique among the topologies alive at once.</summary>
    public int Subnet { get; private set; }

    /// <summary>A short tag unique to this topology, for the names of its namespaces and links.</summary>
    public string Tag => _tag;

    public NetworkNamespace Internet { get; private set; } = null!;

    public AgentFixture Agent { get; private set; } = null!;

    public InternetOrigin Origin { get; private set; } = null!;

    /// <summary>The test's own address on the endpoint's link: where the edge listens.</summary>
    public string EdgeSideAddress { get; private set; } = null!;

    /// <summary>The endpoint's address on its link to the internet: what the origin sees for a direct flow.</summary>
    public string EndpointInternetAddress { get; private set; } = null!;

    /// <summary>The internet's address on the endpoint's link: reachable from the endpoint only, not from the edge.</summary>
    public string InternetSideAddress { get; private set; } = null!;

    /// <summary>The test's own address on its link to the internet: what the origin sees for a flow through the edge.</summary>
    public string EdgeInternetAddress { get; private set; } = null!;

    /// <summary>The origin's IPv6 address, reachable from the endpoint only.</summary>
    public IPAddress OriginIpv6 { get; private set; } = null!;

    /// <summary>The names a connector of the test resolved for private apps, in order.</summary>
    public ConcurrentQueue<string> ConnectorResolved { get; } = new();

    /// <summary>The names the edge resolved, in order.</summary>
    public ConcurrentQueue<string> EdgeResolved { get; } = new();

    /// <summary>The agent service's local API socket.</summary>
    public string ServiceSocket => Path.Combine(Agent.StateDirectory, "..", "agent-service.sock");

    /// <summary>Builds the namespaces, the origin, the portal and edge, and enrolls the device.</summary>
    /// <param name="prepareEndpoint">Runs on the endpoint namespace before the agent starts (an address in 100.64.0.0/16).</param>
    public static async Task<EndpointTopology> StartAsync(Action<NetworkNamespace>? prepareEndpoint = null)
    {
        var topology = new EndpointTopology();
        try
        {
            await topology.BuildAsync(prepareEndpoint);
            return topology;
        }
        catch
        {
            await topology.DisposeAsync();
            throw;
        }
    }

    private async Task BuildAsync(Action<NetworkNamespace>? prepareEndpoint)
    {
        var n = 16 + ((Environment.ProcessId + Interlocked.Increment(ref _instances)) % 200);
        Subnet = n;
        _tag = $"{Environment.ProcessId % 10000}x{n}";
        EdgeSideAddress = $"10.{n}.1.1";
        EndpointInternetAddress = $"10.{n}.2.1";
        EdgeInternetAddress = $"10.{n}.3.1";
        InternetSideAddress = $"10.{n}.2.2";
        var origin = IPAddress.Parse($"198.18.{n}.10");

        Endpoint = Add(NetworkNamespace.Create($"gh-ep-{_tag}"));
        Internet = Add(NetworkNamespace.Create($"gh-in-{_tag}"));

        // endpoint <-> this namespace (the edge's host)
        NetworkNamespace.HostIp("link", "add", $"ghe{_tag}", "type", "veth", "peer", "name", $"ghE{_tag}", "netns", Endpoint.Name);
        NetworkNamespace.HostIp("addr", "add", $"{EdgeSideAddress}/24", "dev", $"ghe{_tag}");
        NetworkNamespace.HostIp("link", "set", $"ghe{_tag}", "up");
        Endpoint.Ip("addr", "add", $"10.{n}.1.2/24", "dev", $"ghE{_tag}");
        Endpoint.Ip("link", "set", $"ghE{_tag}", "up");

        // this namespace <-> internet
        NetworkNamespace.HostIp("link", "add", $"ghi{_tag}", "type", "veth", "peer", "name", $"ghI{_tag}", "netns", Internet.Name);
        NetworkNamespace.HostIp("addr", "add", $"{EdgeInternetAddress}/24", "dev", $"ghi{_tag}");
        NetworkNamespace.HostIp("link", "set", $"ghi{_tag}", "up");
        Internet.Ip("addr", "add", $"10.{n}.3.2/24", "dev", $"ghI{_tag}");
        Internet.Ip("link", "set", $"ghI{_tag}", "up");
        NetworkNamespace.HostIp("route", "add", $"{origin}/32", "via", $"10.{n}.3.2");

        // endpoint <-> internet: the endpoint's default route
        Endpoint.Ip("link", "add", $"ghx{_tag}", "type", "veth", "peer", "name", $"ghX{_tag}", "netns", Internet.Name);
        Endpoint.Ip("addr", "add", $"{EndpointInternetAddress}/24", "dev", $"ghx{_tag}");
        Endpoint.Ip("link", "set", $"ghx{_tag}", "up");
        Internet.Ip("addr", "add", $"{InternetSideAddress}/24", "dev", $"ghX{_tag}");
        Internet.Ip("link", "set", $"ghX{_tag}", "up");
        Endpoint.Ip("route", "add", "default", "via", $"10.{n}.2.2");
        Internet.Ip("addr", "add", $"{origin}/32", "dev", "lo");
        Endpoint.WriteEtcFile("resolv.conf", $"nameserver {origin}\n");

        // IPv6 on the endpoint's way to the internet, with an origin address of its own (names stay IPv4-only).
        OriginIpv6 = IPAddress.Parse($"fd00:67:{n:x}:10::10");
        Endpoint.Ip("-6", "addr", "add", $"fd00:67:{n:x}:2::1/64", "dev", $"ghx{_tag}", "nodad");
        Internet.Ip("-6", "addr", "add", $"fd00:67:{n:x}:2::2/64", "dev", $"ghX{_tag}", "nodad");
        Internet.Ip("-6", "addr", "add", $"{OriginIpv6}/128", "dev", "lo", "nodad");
        Endpoint.Ip("-6", "route", "add", "default", "via", $"fd00:67:{n:x}:2::2");
        prepareEndpoint?.Invoke(Endpoint);

        Origin = new InternetOrigin(Internet, origin);
        _owned.Add(Origin);

        Agent = await AgentFixture.StartAsync(EdgeSideAddress, ResolveAsync, new IPNetwork(origin, 32));
        _owned.Add(Agent);
        _owned.Add(new LoopbackForwarder(Endpoint, Agent.Portal.BaseAddress.Port));
        await Agent.EnrollDeviceAsync();
    }

    private Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct)
    {
        EdgeResolved.Enqueue(host);
        return Task.FromResult(host.EndsWith("." + InternetOrigin.Zone, StringComparison.Ordinal) ? [Origin.Address] : Array.Empty<IPAddress>());
    }

    private NetworkNamespace Add(NetworkNamespace created)
    {
        _namespaces.Add(created);
        return created;
    }

    /// <summary>Starts the agent service inside the endpoint, as root would run it: transparent mode allowed.</summary>
    /// <param name="restartDelay">The watchdog's first restart delay.</param>
    /// <param name="captivePortalProbe">The captive-portal probe URL, when not the default.</param>
    /// <param name="drResolver">The DNS server the agent asks for the DR record, when not the endpoint's.</param>
    public void StartService(TimeSpan? restartDelay = null, string? captivePortalProbe = null, IPEndPoint? drResolver = null)
    {
        List<string> options = ["--proxy-listen", "127.0.0.1:9000", "--transparent"];
        if (captivePortalProbe is not null)
        {
            options.AddRange(["--captive-portal-probe", captivePortalProbe]);
        }

        if (drResolver is not null)
        {
            options.AddRange(["--dr-resolver", drResolver.ToString()]);
        }

        if (restartDelay is { } delay)
        {
            options.AddRange(["--restart-delay", delay.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        _service = AgentServiceProcess.Start(Endpoint, Agent.StateDirectory, ServiceSocket, [.. options]);
    }

    /// <summary>What the service and its data plane wrote, for failure messages.</summary>
    public string ServiceLog => _service?.Log ?? string.Empty;

    /// <summary>The agent's status, as `gatehouse status` reads it from the service.</summary>
    public Task<AgentStatus?> StatusAsync() => _service?.StatusAsync() ?? Task.FromResult<AgentStatus?>(null);

    /// <summary>Waits until the agent intercepts transparently and an edge answers.</summary>
    public Task WaitForTransparentAsync() => AgentFixture.WaitUntilAsync(
        async () => await StatusAsync() is { Mode: AgentModes.Transparent, State: AgentStates.Connected } && NftTableExists(),
        "the agent to intercept transparently with an edge up",
        () => $"{StatusAsync().GetAwaiter().GetResult()}\nagent log:\n{ServiceLog}");

    /// <summary>Whether the agent's nftables table exists in the endpoint.</summary>
    public bool NftTableExists() =>
        Endpoint.ExecAsync(TimeSpan.FromSeconds(10), "nft", "list", "table", "inet", "gatehouse_agent").GetAwaiter().GetResult().Code == 0;

    /// <summary>The data plane's process id, from /proc (it runs in the endpoint under the service).</summary>
    public int? DataPlanePid()
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                var command = File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0');
                if (command.Contains("dataplane") && command.Contains(Agent.StateDirectory))
                {
                    return pid;
                }
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }

        return null;
    }

    /// <summary>curl inside the endpoint, no proxy unless asked.</summary>
    public Task<(int Code, string Output, string Error)> CurlAsync(params string[] args) =>
        Endpoint.ExecAsync(TimeSpan.FromSeconds(40), ["curl", "-sS", "--max-time", "20", .. args]);

    /// <summary>dig inside the endpoint, through the system's resolver configuration.</summary>
    public Task<(int Code, string Output, string Error)> DigAsync(string name, string type = "A") =>
        Endpoint.ExecAsync(TimeSpan.FromSeconds(30), "dig", "+time=3", "+tries=2", name, type);

    /// <summary>Stops the service as systemd does (SIGTERM): it stops the data plane, which removes its table.</summary>
    public Task StopServiceAsync() => _service?.StopAsync() ?? Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }

        foreach (var created in Enumerable.Reverse(_namespaces))
        {
            created.Dispose();
        }
    }
}
