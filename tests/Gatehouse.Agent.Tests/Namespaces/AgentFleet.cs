using Gatehouse.Node.Credentials;
using Gatehouse.Node.Enrollment;
using Gatehouse.Testing;
using Gatehouse.Testing.Namespaces;
using Gatehouse.Wire.Agent;

namespace Gatehouse.Agent.Tests.Namespaces;

/// <summary>
/// Several real agents, each a <c>gatehouse-agent service</c> process (with its data plane) in an
/// endpoint namespace of its own, enrolled at one portal and one edge in the test's namespace:
/// <code>
///  gh-fl1-T  10.M.1.2 ──┐
///  gh-fl2-T  10.M.2.2 ──┼── test's ns: portal (through a loopback forwarder in each), edge-1 on 10.M.1.1
///  gh-fl3-T  10.M.3.2 ──┘
/// </code>
/// </summary>
internal sealed class AgentFleet : IAsyncDisposable
{
    private static int _instances;

    private readonly List<NetworkNamespace> _namespaces = [];
    private readonly List<IAsyncDisposable> _owned = [];

    public AgentFixture Control { get; private set; } = null!;

    public List<FleetAgent> Agents { get; } = [];

    /// <summary>Builds the namespaces, starts the portal and edge, enrolls and starts <paramref name="count"/> agents.</summary>
    public static async Task<AgentFleet> StartAsync(int count)
    {
        var fleet = new AgentFleet();
        try
        {
            await fleet.BuildAsync(count);
            return fleet;
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }
    }

    private async Task BuildAsync(int count)
    {
        var m = 230 + ((Environment.ProcessId + Interlocked.Increment(ref _instances)) % 20);
        var tag = $"{Environment.ProcessId % 10000}y{m}";
        for (var k = 1; k <= count; k++)
        {
            var ns = NetworkNamespace.Create($"gh-fl{k}-{tag}");
            _namespaces.Add(ns);
            NetworkNamespace.HostIp("link", "add", $"ghf{k}{tag}", "type", "veth", "peer", "name", $"ghF{k}{tag}", "netns", ns.Name);
            NetworkNamespace.HostIp("addr", "add", $"10.{m}.{k}.1/24", "dev", $"ghf{k}{tag}");
            NetworkNamespace.HostIp("link", "set", $"ghf{k}{tag}", "up");
            ns.Ip("addr", "add", $"10.{m}.{k}.2/24", "dev", $"ghF{k}{tag}");
            ns.Ip("link", "set", $"ghF{k}{tag}", "up");
            ns.Ip("link", "set", "lo", "up");
            if (k > 1)
            {
                ns.Ip("route", "add", $"10.{m}.1.0/24", "via", $"10.{m}.{k}.1");
            }
        }

        // Rollouts are judged every second, so that a halt shows within the test's patience.
        Control = await AgentFixture.StartAsync($"10.{m}.1.1", portal => portal.RolloutEvaluationSeconds = 1);
        _owned.Add(Control);
        for (var k = 1; k <= count; k++)
        {
            var ns = _namespaces[k - 1];
            _owned.Add(new LoopbackForwarder(ns, Control.Portal.BaseAddress.Port));
            var state = Path.GetFullPath(Path.Combine(Control.StateDirectory, "..", $"fleet-agent-{k}"));
            using var credentials = await new NodeEnrollment().EnrollDeviceAsync(
                AgentPaths.DeviceStore(state), Control.Portal.BaseAddress, PortalTrust.Pinned(Control.Portal.TlsCertificatePem),
                await Control.EnrollmentTokenAsync(), $"laptop-{k}", "linux", "test").DefaultTimeout();
            await Control.WaitForEdgeToKnowAsync(credentials.Identity.SubjectId);
            var agent = new FleetAgent(ns, state, credentials.Identity.SubjectId);
            agent.Start();
            Agents.Add(agent);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in Agents)
        {
            await agent.DisposeAsync();
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

/// <summary>One agent of an <see cref="AgentFleet"/>: its namespace, state and service process.</summary>
internal sealed class FleetAgent(NetworkNamespace ns, string stateDirectory, Guid deviceId) : IAsyncDisposable
{
    private AgentServiceProcess? _service;

    public Guid DeviceId { get; } = deviceId;

    public string StateDirectory { get; } = stateDirectory;

    public string Log => _service?.Log ?? string.Empty;

    /// <summary>Starts the service (local proxy only), checking for content twice a second and committing it after one.</summary>
    public void Start() => _service = AgentServiceProcess.Start(
        ns, StateDirectory, Path.Combine(StateDirectory, "service.sock"),
        "--proxy-listen", "127.0.0.1:9000", "--content-poll", "0.5", "--content-health-window", "1");

    public Task<AgentStatus?> StatusAsync() => _service?.StatusAsync() ?? Task.FromResult<AgentStatus?>(null);

    public async ValueTask DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }
    }
}
