using System.Text.Json.Nodes;
using Gatehouse.Agent.Bundles;
using Gatehouse.Trust.Bundles;
using Gatehouse.Wire.Config;

namespace Gatehouse.Agent.Tests.Networks;

public sealed class TrustedNetworkCriteriaTests
{
    private static VerifiedBundle Bundle(string trustedNetwork) => new(
        new BundleHeader("tenant", "agent", 7, DateTimeOffset.UnixEpoch, null),
        JsonNode.Parse($$"""
            {
              "edges": [ { "name": "edge1", "address": "127.0.0.1:7444" } ],
              "appProfiles": [ { "name": "everyone", "failMode": "closed", "trustedNetwork": {{trustedNetwork}} } ]
            }
            """)!.AsObject(),
        []);

    [Fact]
    public void Trusted_network_criteria_are_read()
    {
        var bundle = AgentBundle.From(Bundle("""{ "dnsServers": [ "10.0.0.53" ], "beacon": { "address": "10.0.0.1:443", "sha256": "AB" } }"""));

        Assert.Equal(["10.0.0.53"], bundle.TrustedNetwork!.DnsServers!);
        Assert.Equal("10.0.0.1:443", bundle.TrustedNetwork.Beacon!.Address);
    }

    // Every criterion given must hold, so one the agent dropped would make more networks trusted than the admin
    // wrote, and a forwarding profile that goes direct on trusted networks would leave the tunnel there: refused,
    // so the previous bundle stays in force (DataPlaneHost.Refusal).
    [Theory]
    [InlineData("""{ "dnsServers": [ "10.0.0.53" ], "gatewayMac": "00:11:22:33:44:55" }""", "gatewayMac")]
    [InlineData("""{ "beacon": { "address": "10.0.0.1:443", "sha256": "AB", "issuer": "CN=office" } }""", "issuer")]
    [InlineData("""{ "hostResolves": { "host": "intranet.corp", "address": "10.0.0.9", "ttl": 60 } }""", "ttl")]
    public void Trusted_network_criteria_this_agent_does_not_know_refuse_the_bundle(string trustedNetwork, string field)
    {
        var error = Assert.Throws<FormatException>(() => AgentBundle.From(Bundle(trustedNetwork)));

        Assert.Contains("trusted-network criteria that cannot be read", error.Message, StringComparison.Ordinal);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }
}
