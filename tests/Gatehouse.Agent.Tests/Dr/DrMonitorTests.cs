using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gatehouse.Agent.Bundles;
using Gatehouse.Agent.Dr;
using Gatehouse.Agent.Edges;
using Gatehouse.Agent.State;
using Gatehouse.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Agent.Tests.Dr;

/// <summary>
/// <see cref="DrMonitor"/>'s own loop, against a DNS server on loopback that takes queries and never answers.
/// </summary>
public sealed class DrMonitorTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("gatehouse-dr-monitor-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    [Fact]
    public async Task The_status_says_which_record_is_checked_and_how_often_while_the_bundle_has_dr_settings()
    {
        // Outside DR the status said only "dr: -", as if the tenant had no DR at all.
        var state = new AgentState(Guid.NewGuid(), Guid.NewGuid(), "https://portal.invalid");
        await using var edges = new EdgeSet(state, NullLogger.Instance);
        await using var monitor = new DrMonitor(state, edges, () => [], () => [], _state, socketMark: null, TimeProvider.System, NullLogger.Instance);

        monitor.Use([], new BundleDr("_gatehouse-dr.example.test", new byte[91], [], DrillGroupId: null, CheckInterval: TimeSpan.FromMinutes(1)));
        Assert.Equal(("_gatehouse-dr.example.test every 60 s", null), (state.Snapshot().DrWatch, state.Snapshot().Dr));

        monitor.Use([], null);
        Assert.Null(state.Snapshot().DrWatch);
    }

    [Fact]
    public async Task Stopping_while_a_lookup_waits_for_its_answer_ends_the_monitor_at_once_and_quietly()
    {
        using var silentServer = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silentServer.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var state = new AgentState(Guid.NewGuid(), Guid.NewGuid(), "https://portal.invalid");
        await using var edges = new EdgeSet(state, NullLogger.Instance);
        var monitor = new DrMonitor(
            state, edges, () => [], () => [(IPEndPoint)silentServer.LocalEndPoint!], _state, socketMark: null, TimeProvider.System, NullLogger.Instance);
        monitor.Use([], new BundleDr("_gatehouse-dr.example.test", new byte[91], [], DrillGroupId: null, CheckInterval: TimeSpan.FromMinutes(1)));

        monitor.Start();
        var query = new byte[512];
        await silentServer.ReceiveFromAsync(query, new IPEndPoint(IPAddress.Any, 0)).DefaultTimeout();
        var stopping = Stopwatch.StartNew();
        await monitor.DisposeAsync().AsTask().DefaultTimeout();

        // The lookup gives up on its own after 3 s; stopping cancels it instead of waiting that out.
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(2), $"stopping took {stopping.Elapsed.TotalMilliseconds:F0} ms");
    }
}
