using Gatehouse.Policy.Compilation;
using Gatehouse.Policy.Sources;

namespace Gatehouse.Policy.Tests.Decisions;

public sealed class SegmentNetworksTests
{
    [Fact]
    public void The_networks_of_the_app_segments_come_out_as_compiled_with_their_ports_in_order()
    {
        AppSegmentSource[] segments =
        [
            new("crm", ["crm.corp"], ["10.20.5.0/16", "192.168.7.8"], ["443"]),
            new("wiki", ["*.wiki.corp"], [], []),
            new("db", [], ["fd00::/64", "10.20.0.0/16"], ["5432"]),
        ];

        var compiled = PolicyCompiler.Compile(new PolicySource([], Policies.Categories, segments, Policies.Users));

        Assert.True(compiled.Succeeded, compiled.Error?.ToString());
        var networks = compiled.Policy!.SegmentNetworks.Select(n => (n.Network.ToString(), string.Join(",", n.Ports))).ToArray();
        Assert.Equal(
            [("10.20.0.0/16", "(443, 443)"), ("192.168.7.8/32", "(443, 443)"), ("fd00::/64", "(5432, 5432)"), ("10.20.0.0/16", "(5432, 5432)")],
            networks);
    }
}
