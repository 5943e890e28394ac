using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.Node.Credentials;
using Gatehouse.Testing;
using Gatehouse.Tunnel;
using Gatehouse.Wire.Logs;
using Gatehouse.Wire.Sockets;

namespace Gatehouse.Connector.Tests;

/// <summary>
/// How the end of a private flow that the edge carries on a connector's HTTP/2 stream reaches the app, through a real
/// edge and connector: the client's end of the upload as a FIN, a cut at the client's end as a reset. The edge ends the
/// stream (END_STREAM) or resets it (RST_STREAM), and the connector hands that on to the app.
/// </summary>
public sealed class PrivateFlowEndingTests : IAsyncLifetime
{
    private const string UploadName = "upload.corp.internal";

    private PrivateAccessFixture _f = null!;

    public async Task InitializeAsync() => _f = await PrivateAccessFixture.StartAsync();

    public async Task DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    public async Task A_proxy_client_that_resets_mid_upload_reaches_the_app_as_a_reset()
    {
        using var app = new UploadApp();
        using var client = await ConnectThroughProxyAsync(app);
        var firstHalf = "the first half of an upload"u8.ToArray();
        await client.GetStream().WriteAsync(firstHalf);
        await app.ReadAsync(firstHalf);

        // The socket, not the TcpClient, whose closing would shut its stream down first, with a FIN.
        AbortiveClose.Reset(client.Client);

        await app.AssertCutAfterAsync(firstHalf);
    }

    [Fact]
    public async Task A_proxy_client_that_half_closes_reaches_the_app_with_a_clean_end()
    {
        using var app = new UploadApp();
        using var client = await ConnectThroughProxyAsync(app);
        var whole = "the whole upload"u8.ToArray();
        await client.GetStream().WriteAsync(whole);

        client.Client.Shutdown(SocketShutdown.Send);

        await app.AssertEndedAfterAsync(whole);
    }

    [Fact]
    public async Task A_device_whose_connection_breaks_mid_upload_reaches_the_app_as_a_reset()
    {
        using var app = new UploadApp();
        using var device = await StartAsync(app);
        await using var stream = await device.OpenAsync(app.Port);
        var firstHalf = "the first half of an upload"u8.ToArray();
        await stream.WriteAsync(firstHalf);
        await stream.FlushAsync();
        await app.ReadAsync(firstHalf);

        device.Break();

        await app.AssertCutAfterAsync(firstHalf);
    }

    [Fact]
    public async Task A_device_whose_connection_breaks_once_the_app_said_all_it_had_reaches_the_app_as_a_reset_but_breaks_nothing_in_the_record()
    {
        // The app has ended its side and reads on: an END_STREAM now would reach it as the end of an upload the device
        // never ended. Nothing the app sent is lost by a reset: the edge has all of it.
        using var app = new UploadApp(answer: "all there is"u8.ToArray());
        using var device = await StartAsync(app);
        await using var stream = await device.OpenAsync(app.Port);
        var upload = "an upload the device gives up on"u8.ToArray();
        await stream.WriteAsync(upload);
        await stream.FlushAsync();
        Assert.Equal("all there is", await ReadToEndAsync(stream));
        await app.ReadAsync(upload);

        device.Break();

        await app.AssertCutAfterAsync(upload);
        var record = await _f.Records.WaitForAsync(r => r.Listener == TransactionListeners.Tunnel && r.Host == UploadName);
        Assert.Equal((TransactionActions.Allow, 200, "app segment corp-upload through connector connector-1"), (record.Action, record.Status, record.Reason));
    }

    /// <summary>Makes <see cref="UploadName"/> at <paramref name="app"/>'s port a private app and starts a connector that serves it.</summary>
    private async Task StartConnectorForAsync(UploadApp app)
    {
        var segment = await _f.AddAppAsync(UploadName, app.Port);
        var connector = await _f.StartConnectorAsync();
        await PrivateAccessFixture.WaitForAsync(() => connector.Config.SegmentNames.Contains(segment), $"the connector to serve {segment}");
    }

    /// <summary>The engineer's device, with a connector serving <paramref name="app"/>.</summary>
    private async Task<BreakableTunnel> StartAsync(UploadApp app)
    {
        await StartConnectorForAsync(app);
        return new BreakableTunnel(_f.EngineerDevice, _f.Edge.TunnelAddress!.ToString());
    }

    /// <summary>A proxy client connected with CONNECT, answered 200, to <paramref name="app"/> through a connector.</summary>
    private async Task<TcpClient> ConnectThroughProxyAsync(UploadApp app)
    {
        await StartConnectorForAsync(app);
        var engineer = await _f.ProxyCredentialAsync(_f.Engineer);
        var client = new TcpClient();
        try
        {
            await client.ConnectAsync(_f.Edge.ProxyAddress!);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT {UploadName}:{app.Port} HTTP/1.1\r\nProxy-Authorization: {engineer}\r\n\r\n"));
            var head = new StringBuilder();
            var one = new byte[1];
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await stream.ReadAsync(one).AsTask().DefaultTimeout() == 1)
            {
                head.Append((char)one[0]);
            }

            Assert.StartsWith("HTTP/1.1 200", head.ToString(), StringComparison.Ordinal);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private static async Task<string> ReadToEndAsync(Stream stream)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        var all = new MemoryStream();
        await stream.CopyToAsync(all, timeout.Token);
        return Encoding.ASCII.GetString(all.ToArray());
    }

    /// <summary>A device's tunnel client on one connection that the test can break with a TCP reset.</summary>
    private sealed class BreakableTunnel : IDisposable
    {
        private readonly X509Certificate2 _certificate;
        private readonly TunnelClient _client;
        private Socket? _socket;

        public BreakableTunnel(NodeCredentials device, string edge)
        {
            _certificate = device.CreateCertificateWithKey();
            var tenantCa = device.TenantCa;
            var tenantId = device.Identity.TenantId.ToString();
            var handler = new SocketsHttpHandler
            {
                SslOptions = new SslClientAuthenticationOptions
                {
                    EnabledSslProtocols = SslProtocols.Tls13,
                    ClientCertificates = [_certificate],
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => TunnelClient.IsTenantEdge(certificate as X509Certificate2, tenantCa, tenantId),
                },
                ConnectCallback = async (context, ct) =>
                {
                    var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    await socket.ConnectAsync(context.DnsEndPoint, ct);
                    _socket = socket;
                    return new NetworkStream(socket, ownsSocket: true);
                },
            };
            _client = new TunnelClient(handler, new Uri($"https://{edge}"));
        }

        /// <summary>Opens <see cref="UploadName"/> on <paramref name="port"/> (a POST flow, not relayed); fails unless it opened.</summary>
        public async Task<Stream> OpenAsync(int port)
        {
            var opened = await _client.OpenAsync(UploadName, port).DefaultTimeout();
            PrivateAccessFixture.AssertOpened(opened);
            return opened.Stream!;
        }

        /// <summary>Resets the device's connection to the edge, as a device that crashes or loses its network does.</summary>
        public void Break() => AbortiveClose.Reset(_socket!);

        public void Dispose()
        {
            _client.Dispose();
            _certificate.Dispose();
        }
    }
}
