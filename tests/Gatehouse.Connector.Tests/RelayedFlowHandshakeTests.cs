using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Testing;
using Gatehouse.Testing.Tls;
using Gatehouse.Tunnel;
using Gatehouse.Wire.Tunnel;

namespace Gatehouse.Connector.Tests;

/// <summary>
/// The connector's end of a relayed flow is a TLS server for whatever the device sends through the edge. Its caller,
/// <c>RelayedFlowEnd</c>, runs it fire-and-forget and catches only the failures of a handshake; anything else was lost
/// unlogged with the flow.
/// </summary>
public sealed class RelayedFlowHandshakeTests
{
    [Fact]
    public async Task A_malformed_ClientHello_from_the_device_fails_the_handshake_as_an_authentication_failure()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=connector", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        var context = SslStreamCertificateContext.Create(certificate, null, offline: true);
        var hello = await ClientHellos.CaptureAsync();
        var ticket = RandomNumberGenerator.GetBytes(RelayProtocol.TicketLength);
        var unexpected = new List<string>();

        // Every handshake length short of the ClientHello's own; the one that ends inside the extensions' length makes
        // SslStream's parser throw ArgumentOutOfRangeException (.NET 10).
        foreach (var (length, bytes) in ShortenedClientHellos.Of(hello))
        {
            using var edge = new TcpListener(IPAddress.Loopback, 0);
            edge.Start();
            var port = ((IPEndPoint)edge.LocalEndpoint).Port;
            var accepting = PlayDeviceAsync(edge, bytes);
            var failure = await Record.ExceptionAsync(() => RelayedFlow.AcceptAsConnectorAsync("127.0.0.1", port, ticket, "fingerprint", context, certificate, "tenant", CancellationToken.None).DefaultTimeout());
            using var device = await accepting;
            if (failure is not (AuthenticationException or IOException))
            {
                unexpected.Add($"{length}: {failure?.GetType().Name ?? "no failure"}");
            }
        }

        Assert.Empty(unexpected);
    }

    /// <summary>The edge's side, as it relays a device: takes the connector's preamble, then hands it the device's bytes and keeps the connection open.</summary>
    private static async Task<TcpClient> PlayDeviceAsync(TcpListener edge, byte[] clientHello)
    {
        var connector = await edge.AcceptTcpClientAsync().DefaultTimeout();
        var stream = connector.GetStream();
        await stream.ReadExactlyAsync(new byte[RelayProtocol.PreambleLength]).AsTask().DefaultTimeout();
        await stream.WriteAsync(clientHello);
        return connector;
    }
}
