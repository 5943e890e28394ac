using Gatehouse.Agent.Networks;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Agent.Tests.Networks;

public sealed class NetworkDetectorTests : IDisposable
{
    private readonly string _resolvConf = Path.GetTempFileName();

    public NetworkDetectorTests() =>
        File.WriteAllText(_resolvConf, "# written by a test\nnameserver 10.0.0.53\nnameserver 10.0.0.54\nsearch corp.example. lab.example\noptions edns0\n");

    public void Dispose() => File.Delete(_resolvConf);

    public static TheoryData<TrustedNetworkCriteria?, string> Cases => new()
    {
        { null, NetworkKinds.Untrusted },
        { new TrustedNetworkCriteria(), NetworkKinds.Untrusted },
        { new TrustedNetworkCriteria(DnsServers: ["10.0.0.54"]), NetworkKinds.Trusted },
        { new TrustedNetworkCriteria(DnsServers: ["10.9.9.9"]), NetworkKinds.Untrusted },
        { new TrustedNetworkCriteria(SearchDomains: ["corp.example"]), NetworkKinds.Trusted },
        { new TrustedNetworkCriteria(SearchDomains: ["home.example"]), NetworkKinds.Untrusted },
        { new TrustedNetworkCriteria(HostResolves: new HostResolvesCheck("localhost", "127.0.0.1")), NetworkKinds.Trusted },
        { new TrustedNetworkCriteria(HostResolves: new HostResolvesCheck("localhost", "10.1.1.1")), NetworkKinds.Untrusted },
        { new TrustedNetworkCriteria(DnsServers: ["10.0.0.53"], SearchDomains: ["home.example"]), NetworkKinds.Untrusted },
        { new TrustedNetworkCriteria(DnsServers: ["10.0.0.53"], SearchDomains: ["lab.example"]), NetworkKinds.Trusted },
        { new TrustedNetworkCriteria(Beacon: new TlsBeaconCheck("127.0.0.1:1", "00")), NetworkKinds.Untrusted },
    };

    [Theory]
    [InlineData("wg0", "65534", "0x1091", NetworkKinds.Vpn)]
    [InlineData("corp", "512", "0x1091", NetworkKinds.Vpn)]
    [InlineData("tun0", "65534", "0x1090", NetworkKinds.Trusted)]
    [InlineData("eth1", "1", "0x1003", NetworkKinds.Trusted)]
    [InlineData("vpn-office", "1", "0x1003", NetworkKinds.Vpn)]
    public async Task A_vpn_interface_that_is_up_makes_it_a_vpn_network_before_any_trusted_criterion(string name, string type, string flags, string expected)
    {
        var sys = Directory.CreateTempSubdirectory("sys-class-net-").FullName;
        try
        {
            foreach (var (nic, nicType, nicFlags) in new[] { ("lo", "772", "0x9"), ("eth0", "1", "0x1003"), (name, type, flags) })
            {
                Directory.CreateDirectory(Path.Combine(sys, nic));
                File.WriteAllText(Path.Combine(sys, nic, "type"), nicType + "\n");
                File.WriteAllText(Path.Combine(sys, nic, "flags"), nicFlags + "\n");
            }

            var verdict = await new NetworkDetector(_resolvConf, sys).EvaluateAsync(new TrustedNetworkCriteria(DnsServers: ["10.0.0.53"]), CancellationToken.None);

            Assert.Equal(expected, verdict.Kind);
            Assert.Contains(expected == NetworkKinds.Vpn ? name : "criterion", verdict.Reason, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(sys, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Every_criterion_given_must_hold(TrustedNetworkCriteria? criteria, string expected)
    {
        var verdict = await new NetworkDetector(_resolvConf).EvaluateAsync(criteria, CancellationToken.None);

        Assert.Equal(expected, verdict.Kind);
        Assert.False(string.IsNullOrWhiteSpace(verdict.Reason));
    }

    [Fact]
    public async Task A_missing_resolver_configuration_matches_no_dns_criterion()
    {
        var verdict = await new NetworkDetector("/nonexistent/resolv.conf").EvaluateAsync(new TrustedNetworkCriteria(DnsServers: ["10.0.0.53"]), CancellationToken.None);

        Assert.Equal(NetworkKinds.Untrusted, verdict.Kind);
        Assert.Contains("10.0.0.53", verdict.Reason, StringComparison.Ordinal);
    }
}
