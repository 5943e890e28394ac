using Gatehouse.Wire.Logs;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Connector.Tests;

/// <summary>Private apps through a real edge and real connectors: access policy, brokering, failover.</summary>
public sealed class PrivateAccessTests : IAsyncLifetime
{
    private PrivateAccessFixture _f = null!;

    public async Task InitializeAsync() => _f = await PrivateAccessFixture.StartAsync();

    public async Task DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    public async Task An_allowed_user_reaches_the_private_app_through_the_connector_and_the_flow_is_logged()
    {
        var connector = await _f.StartConnectorAsync();

        var opened = await _f.OpenAppAsync(_f.EngineerDevice);

        Assert.True(opened.Status == 200, $"{opened.Status} {opened.Reason}");
        Assert.Equal("ping", opened.Reason);
        Assert.Equal(1, _f.Echo.Served);
        var record = await _f.Records.WaitForAsync(r => r.Host == PrivateAccessFixture.AppName && r.Status == 200);
        Assert.Equal(TransactionActions.Allow, record.Action);
        Assert.Equal("engineering-echo", record.Rule);
        Assert.Contains("app segment corp-echo through connector connector-1", record.Reason, StringComparison.Ordinal);
        Assert.Equal(4, record.BytesUp);
        Assert.Equal(4, record.BytesDown);
        Assert.Equal(connector.Identity.SubjectId.ToString(), _f.Edge.DataPath.Connectors.Live.Single().ConnectorId);
    }

    [Fact]
    public async Task A_user_outside_the_allowed_groups_is_refused_with_the_reason_in_the_log_and_nothing_reaches_the_app()
    {
        await _f.StartConnectorAsync();

        var refused = await _f.OpenAppAsync(_f.OutsiderDevice);

        Assert.Equal(403, refused.Status);
        Assert.Contains("no access rule allows otto@example.test to reach app segment corp-echo", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(0, _f.Echo.Served);
        var record = await _f.Records.WaitForAsync(r => r.Status == 403);
        Assert.Equal(TransactionActions.Block, record.Action);
        Assert.Equal(refused.Reason, record.Reason);
        Assert.Equal(_f.Outsider.Id.ToString(), record.UserId);
    }

    [Fact]
    public async Task A_block_rule_before_the_allow_refuses_by_its_name()
    {
        await _f.StartConnectorAsync();
        await _f.PutAccessPolicyAsync(
            new PolicyRuleSpec { Name = "no-unencrypted", Action = PolicyActions.Block, Criteria = new PolicyCriteria { Networks = ["untrusted"], AppSegments = ["corp-echo"] } },
            new PolicyRuleSpec { Name = "everyone", Action = PolicyActions.Allow, Criteria = new PolicyCriteria { AppSegments = ["corp-echo"] } });
        await PrivateAccessFixture.WaitForAsync(() => _f.Edge.Policy.Private.Access.RuleCount == 2, "the new access policy");

        using var client = _f.Client(_f.OutsiderDevice);
        var refused = await client.OpenAsync(PrivateAccessFixture.AppName, _f.Echo.Port, new Gatehouse.Tunnel.TunnelFlowMetadata(Network: "untrusted"));
        var allowed = await _f.OpenAppAsync(_f.OutsiderDevice);

        Assert.Equal(403, refused.Status);
        Assert.Equal("no-unencrypted", refused.Rule);
        Assert.Contains("blocked by access rule no-unencrypted", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(200, allowed.Status);
    }

    [Fact]
    public async Task Without_a_connector_the_flow_is_refused_with_a_clear_reason_and_the_edge_never_dials_the_app_itself()
    {
        var refused = await _f.OpenAppAsync(_f.EngineerDevice);

        Assert.Equal(503, refused.Status);
        Assert.Contains("no connector serving app segment corp-echo is connected to this edge", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(0, _f.Echo.Served);
    }

    [Fact]
    public async Task A_connector_of_a_group_that_does_not_serve_the_segment_gets_no_flow()
    {
        var other = await _f.PostAsync<Gatehouse.Wire.Api.ConnectorGroupDto>("connector-groups", new Gatehouse.Wire.Api.NamedObjectRequest("dc-2"));
        await _f.StartConnectorAsync(other);

        var refused = await _f.OpenAppAsync(_f.EngineerDevice);

        Assert.Equal(503, refused.Status);
        Assert.Equal(0, _f.Echo.Served);
    }

    [Fact]
    public async Task With_two_connectors_killing_one_keeps_the_app_reachable_for_new_flows_within_two_seconds()
    {
        var first = await _f.StartConnectorAsync();
        var second = await _f.StartConnectorAsync();
        Assert.Equal(2, _f.Edge.DataPath.Connectors.Live.Count);

        await first.DisposeAsync();
        var stopped = System.Diagnostics.Stopwatch.StartNew();
        var opened = await _f.OpenAppAsync(_f.EngineerDevice);

        Assert.True(opened.Status == 200, $"{opened.Status} {opened.Reason}");
        Assert.True(stopped.Elapsed < TimeSpan.FromSeconds(2), $"the app answered {stopped.Elapsed.TotalMilliseconds:0} ms after the connector stopped");
        Assert.Equal(second.Identity.SubjectId.ToString(), Assert.Single(_f.Edge.DataPath.Connectors.Live).ConnectorId);
    }

    [Fact]
    public async Task Flows_spread_over_two_connectors_by_load()
    {
        await _f.StartConnectorAsync();
        await _f.StartConnectorAsync();

        // Open flows held at once go to the link with fewer open flows.
        using var client = _f.Client(_f.EngineerDevice);
        var held = new List<Stream>();
        for (var i = 0; i < 4; i++)
        {
            var opened = await client.OpenAsync(PrivateAccessFixture.AppName, _f.Echo.Port);
            Assert.True(opened.IsOpen, $"{opened.Status} {opened.Reason}");
            held.Add(opened.Stream!);
        }

        Assert.All(_f.Edge.DataPath.Connectors.Live, link => Assert.Equal(2, link.OpenFlows));
        foreach (var stream in held)
        {
            await stream.DisposeAsync();
        }
    }
}
