using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Connector.Config;
using Gatehouse.Policy.Decisions;
using Gatehouse.Policy.Sources;

namespace Gatehouse.Connector.Tests;

/// <summary>What a connector takes from its bundle.</summary>
public sealed class ConnectorConfigTests
{
    private const string Me = "0195f000-0000-7000-8000-000000000001";
    private const string MyGroup = "0195f000-0000-7000-8000-0000000000g1";
    private const string OtherGroup = "0195f000-0000-7000-8000-0000000000g2";

    private static JsonObject Body() => JsonNode.Parse($$"""
        {
          "edges": [{"id": "e1", "name": "edge-1", "address": "edge1.example:7444"}, {"id": "e2", "name": "edge-2", "address": "edge2.example:7444"}],
          "connectors": [{"id": "{{Me}}", "name": "c1", "connectorGroupId": "{{MyGroup}}"}, {"id": "x", "name": "c2", "connectorGroupId": "{{OtherGroup}}"}],
          "appSegments": [
            {"name": "wiki", "domains": ["wiki.corp.internal", "*.wiki.corp.internal"], "cidrs": [], "ports": ["443", "8000-8100"], "connectorGroupIds": ["{{MyGroup}}"],
             "serverGroups": [{"name": "wiki-servers", "servers": ["10.1.0.5", "wiki-b.corp.internal"], "healthCheck": "http", "healthPath": "/healthz"}]},
            {"name": "db", "domains": [], "cidrs": ["10.9.0.0/16"], "ports": ["5432"], "connectorGroupIds": ["{{MyGroup}}"], "serverGroups": []},
            {"name": "hr", "domains": ["hr.corp.internal"], "cidrs": [], "ports": ["443"], "connectorGroupIds": ["{{OtherGroup}}"]}
          ]
        }
        """)!.AsObject();

    [Fact]
    public void It_serves_only_the_segments_of_its_own_group()
    {
        var config = ConnectorConfig.FromBundleBody(Body(), Me);

        Assert.Equal(MyGroup, config.GroupId);
        Assert.Equal(["wiki", "db"], config.SegmentNames);
        Assert.Equal(["edge1.example:7444", "edge2.example:7444"], config.Edges.Select(e => e.Address));
        Assert.Equal("wiki", config.Segments.AppSegmentOf(new FlowContext { Host = "wiki.corp.internal", Port = 443 }));
        Assert.Equal("wiki", config.Segments.AppSegmentOf(new FlowContext { Host = "a.wiki.corp.internal", Port = 8050 }));
        Assert.Equal("db", config.Segments.AppSegmentOf(new FlowContext { Ip = IPAddress.Parse("10.9.3.4"), Port = 5432 }));
        Assert.Null(config.Segments.AppSegmentOf(new FlowContext { Host = "wiki.corp.internal", Port = 22 }));
        Assert.Null(config.Segments.AppSegmentOf(new FlowContext { Host = "hr.corp.internal", Port = 443 }));
        Assert.Null(config.Segments.AppSegmentOf(new FlowContext { Ip = IPAddress.Parse("10.10.0.1"), Port = 5432 }));
    }

    [Fact]
    public void It_checks_server_groups_by_their_check_on_single_ports_and_plain_segments_by_tcp()
    {
        var config = ConnectorConfig.FromBundleBody(Body(), Me);

        Assert.Equal(
            [
                new HealthTarget("wiki", "10.1.0.5", 443, "http", "/healthz"),
                new HealthTarget("wiki", "wiki-b.corp.internal", 443, "http", "/healthz"),
            ],
            config.HealthTargets);
    }

    [Fact]
    public void A_connector_the_bundle_does_not_list_serves_nothing()
    {
        var config = ConnectorConfig.FromBundleBody(Body(), "0195f000-0000-7000-8000-0000000000ff");

        Assert.Null(config.GroupId);
        Assert.Empty(config.SegmentNames);
        Assert.Null(config.Segments.AppSegmentOf(new FlowContext { Host = "wiki.corp.internal", Port = 443 }));
    }

    [Fact]
    public void A_malformed_part_is_refused_with_its_path()
    {
        var body = Body();
        body["appSegments"]![0]!["ports"] = "443";

        var error = Assert.Throws<PolicyFormatException>(() => ConnectorConfig.FromBundleBody(body, Me));

        Assert.Contains("appSegments[0].ports", error.Message, StringComparison.Ordinal);
    }
}
