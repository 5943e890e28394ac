using System.Net;
using System.Net.Http.Json;
using Gatehouse.Testing.Portal;
using Gatehouse.Wire.Api;

namespace Gatehouse.Connector.Tests;

/// <summary>App servers that fail their health check get no flows, and get them again once healthy; admins see it.</summary>
public sealed class ServerHealthTests : IAsyncLifetime
{
    private static readonly IPAddress First = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress Second = IPAddress.Parse("127.0.0.3");
    private PrivateAccessFixture _f = null!;
    private HealthCheckedServer _first = null!;
    private HealthCheckedServer _second = null!;

    public async Task InitializeAsync()
    {
        _f = await PrivateAccessFixture.StartAsync();
        _first = new HealthCheckedServer(First, _f.Echo.Port);
        _second = new HealthCheckedServer(Second, _f.Echo.Port);
        _f.PrivateDns[PrivateAccessFixture.AppName] = [First, Second];
        var servers = await _f.PostAsync<ServerGroupDto>("server-groups", new ServerGroupRequest("echo-servers", Servers: [PrivateAccessFixture.AppName], HealthCheck: HealthCheckKinds.Http, HealthPath: "/healthz"));
        var segment = _f.Segment;
        var response = await _f.Admin.PutAsJsonAsync($"app-segments/{segment.Id}", new AppSegmentRequest(segment.Name, Domains: segment.Domains, Ports: segment.Ports, ConnectorGroupIds: segment.ConnectorGroupIds, ServerGroupIds: [servers.Id]), TestPortal.Json);
        response.EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        await _f.DisposeAsync();
        _first.Dispose();
        _second.Dispose();
    }

    [Fact]
    public async Task A_server_failing_its_http_check_stops_receiving_flows_and_comes_back_when_healthy()
    {
        var connector = await _f.StartConnectorAsync();
        await PrivateAccessFixture.WaitForAsync(() => connector.Health.Results.Count(r => r.Healthy) == 2, "both servers to pass their check");

        PrivateAccessFixture.AssertOpened(await _f.OpenAppAsync(_f.EngineerDevice));
        Assert.Equal((1, 0), (_first.Served, _second.Served));

        _first.HealthStatus = 500;
        await PrivateAccessFixture.WaitForAsync(() => connector.Health.Results.Any(r => r.Address == "127.0.0.2" && !r.Healthy), "the first server to fail its check");
        for (var i = 0; i < 3; i++)
        {
            PrivateAccessFixture.AssertOpened(await _f.OpenAppAsync(_f.EngineerDevice));
        }

        Assert.Equal((1, 3), (_first.Served, _second.Served));

        _first.HealthStatus = 200;
        await PrivateAccessFixture.WaitForAsync(() => connector.Health.Results.All(r => r.Healthy), "the first server to pass again");
        PrivateAccessFixture.AssertOpened(await _f.OpenAppAsync(_f.EngineerDevice));
        Assert.Equal((2, 3), (_first.Served, _second.Served));
    }

    [Fact]
    public async Task When_every_server_fails_the_flow_is_refused_with_the_reason_and_admins_see_the_health()
    {
        var connector = await _f.StartConnectorAsync();
        _first.HealthStatus = 503;
        _second.HealthStatus = 500;
        await PrivateAccessFixture.WaitForAsync(() => connector.Health.Results.Count(r => !r.Healthy) == 2, "both servers to fail");

        var refused = await _f.OpenAppAsync(_f.EngineerDevice);

        Assert.Equal(503, refused.Status);
        Assert.Contains($"every server of {PrivateAccessFixture.AppName}:{_f.Echo.Port} fails its health check", refused.Reason, StringComparison.Ordinal);
        Assert.Equal((0, 0), (_first.Served, _second.Served));

        // The connector reports to the portal at once when a server changes state.
        ConnectorHealthDto? health = null;
        await PrivateAccessFixture.WaitForAsync(() =>
        {
            var listed = _f.Admin.GetFromJsonAsync<Page<ConnectorDto>>("connectors", TestPortal.Json).GetAwaiter().GetResult();
            health = listed?.Items.Single().Health;
            return health?.Servers.Count(s => !s.Healthy) == 2;
        }, "the portal to show both servers down");
        Assert.Contains(health!.Servers, s => s.Address == "127.0.0.2" && s.Detail == "HTTP 503" && s.Segment == "corp-echo");
        Assert.Single(health.Edges);
    }
}
