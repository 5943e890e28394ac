using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Testing;
using Gatehouse.Testing.Portal;
using Gatehouse.Wire.Agent;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Agent.Tests.Networks;

/// <summary>A TLS beacon marks the office network, where the forwarding profile sends traffic direct.</summary>
public sealed class TrustedNetworkTests
{
    [Fact]
    public async Task On_the_trusted_network_traffic_goes_direct_and_when_the_beacon_goes_it_goes_to_the_edge_again()
    {
        await using var fixture = await AgentFixture.StartAsync();
        using var beacon = TlsBeacon.Start();
        var office = await (await fixture.Admin.PostAsJsonAsync("forwarding-profiles", new ForwardingProfileRequest("office", ForwardingActions.None, ForwardingActions.Tunnel, ForwardingActions.Tunnel), TestPortal.Json)).Content.ReadFromJsonAsync<ForwardingProfileDto>(TestPortal.Json);
        var profile = new AppProfileRequest("everyone", FailMode: FailModes.Closed, ForwardingProfileId: office!.Id, TrustedNetwork: new TrustedNetworkCriteria(Beacon: new TlsBeaconCheck(beacon.Address, beacon.Sha256)));
        (await fixture.Admin.PostAsJsonAsync("app-profiles", profile, TestPortal.Json)).EnsureSuccessStatusCode();
        await fixture.EnrollDeviceAsync();
        await using var agent = fixture.StartDataPlane(o => o with { NetworkRecheckInterval = TimeSpan.FromMilliseconds(200) });
        var proxy = $"http://{agent.ProxyAddress}";
        var blocked = $"http://{AgentFixture.BlockedHost}/";

        await AgentFixture.WaitUntilAsync(() => Task.FromResult(agent.Status is { Network: NetworkKinds.Trusted, State: AgentStates.Direct }), "the office network to be recognised");
        var onTrusted = await AgentFixture.CurlAsync("-i", "-x", proxy, blocked);
        Assert.DoesNotContain("block-casino", onTrusted.Output, StringComparison.Ordinal);
        Assert.Contains("the forwarding profile sends traffic direct on this trusted network", onTrusted.Output, StringComparison.Ordinal);

        beacon.Dispose();
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(agent.Status is { Network: NetworkKinds.Untrusted, State: AgentStates.Connected }), "the network to be untrusted once the beacon is gone");
        var onUntrusted = await AgentFixture.CurlAsync("-i", "-x", proxy, blocked);
        Assert.Contains("Gatehouse-Rule: block-casino", onUntrusted.Output, StringComparison.Ordinal);
    }

    /// <summary>A TLS server on loopback with a self-signed certificate of its own.</summary>
    private sealed class TlsBeacon : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly X509Certificate2 _certificate;
        private readonly CancellationTokenSource _stop = new();

        private TlsBeacon(TcpListener listener, X509Certificate2 certificate)
        {
            _listener = listener;
            _certificate = certificate;
        }

        public string Address => ((IPEndPoint)_listener.LocalEndpoint).ToString();

        public string Sha256 => Convert.ToHexString(SHA256.HashData(_certificate.RawData));

        public static TlsBeacon Start()
        {
            var certificate = TestCertificates.SelfSigned("office-beacon");
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var beacon = new TlsBeacon(listener, certificate);
            _ = beacon.AcceptLoopAsync();
            return beacon;
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }

        private async Task AcceptLoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        try
                        {
                            await using var tls = new SslStream(client.GetStream());
                            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate });
                        }
                        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
                        {
                            // The agent hangs up once it has seen the certificate.
                        }
                    }
                });
            }
        }
    }
}
