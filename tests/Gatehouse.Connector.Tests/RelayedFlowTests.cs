using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.Node.Credentials;
using Gatehouse.Testing;
using Gatehouse.Tunnel;
using Gatehouse.Wire.Logs;
using Gatehouse.Wire.Tunnel;

namespace Gatehouse.Connector.Tests;

/// <summary>
/// Private flows relayed end to end: one TLS session between the device and the connector, the edge pairing the
/// two connections by a one-time ticket and copying ciphertext.
/// </summary>
public sealed class RelayedFlowTests : IAsyncLifetime
{
    private const string DownloadName = "download.corp.internal";

    private const string UploadName = "upload.corp.internal";

    private PrivateAccessFixture _f = null!;

    public async Task InitializeAsync() => _f = await PrivateAccessFixture.StartAsync();

    public async Task DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    public async Task A_relayed_flow_reaches_the_app_over_one_TLS_session_with_the_connector_the_edge_named()
    {
        var connector = await _f.StartConnectorAsync();
        using var client = _f.RelayClient(_f.EngineerDevice);

        var relayed = Assert.IsType<RelayedStream>(await OpenEchoAsync(client, _f));
        Assert.Equal($"gatehouse://{connector.Identity.TenantId}/connector/{connector.Identity.SubjectId}", Gatehouse.Trust.Certificates.CertificateIdentity.FromCertificate(relayed.PeerCertificate!)!.ToUriString());
        Assert.Equal("ping", await PrivateAccessFixture.EchoAsync(relayed, "ping"));

        // Half-close through TLS: the app sees the end of the request, answers its end, and the device reads it.
        await relayed.CompleteWritesAsync();
        Assert.Equal(0, await relayed.ReadAsync(new byte[16]).AsTask().DefaultTimeout());
        await relayed.DisposeAsync();

        var record = await _f.Records.WaitForAsync(r => r.Host == PrivateAccessFixture.AppName);
        Assert.Equal(200, record.Status);
        Assert.Equal(TransactionActions.Allow, record.Action);
        Assert.Equal("engineering-echo", record.Rule);
        Assert.Equal("app segment corp-echo through connector connector-1, relayed end to end", record.Reason);

        // What crossed the edge is TLS: the handshake and records, more than the four bytes each way.
        Assert.InRange(record.BytesUp, 500, 20_000);
        Assert.InRange(record.BytesDown, 500, 20_000);
        Assert.Equal(1, _f.Echo.Served);
        Assert.Equal(0, _f.Edge.DataPath.Relays!.Pending);
        using var ops = new HttpClient();
        var metrics = await ops.GetStringAsync(new Uri(_f.Edge.OpsAddress, "/metrics"));
        Assert.Contains("gatehouse_edge_relayed_flows_total 1", metrics, StringComparison.Ordinal);
        Assert.Contains("gatehouse_edge_relay_tickets_pending 0", metrics, StringComparison.Ordinal);
        await PrivateAccessFixture.WaitForAsync(() => _f.Edge.DataPath.Connectors.Live.Single().OpenFlows == 0, "the relayed flow to leave its link's count");
    }

    [Fact]
    public async Task A_megabyte_each_way_crosses_a_relayed_flow_intact_with_half_close_after_it()
    {
        await _f.StartConnectorAsync();
        using var client = _f.RelayClient(_f.EngineerDevice);
        await using var stream = Assert.IsType<RelayedStream>(await OpenEchoAsync(client, _f));
        var sent = RandomNumberGenerator.GetBytes(1024 * 1024);

        var reading = ReadToEndAsync(stream);
        await stream.WriteAsync(sent);
        await stream.FlushAsync();
        await stream.CompleteWritesAsync();
        var received = await reading.DefaultTimeout();

        Assert.Equal(sent.Length, received.Length);
        Assert.True(sent.AsSpan().SequenceEqual(received), "the echoed bytes differ");
        var record = await _f.Records.WaitForAsync(r => r.Host == PrivateAccessFixture.AppName);
        Assert.True(record.BytesUp >= sent.Length && record.BytesDown >= sent.Length, record.ToString());
    }

    [Fact]
    public async Task An_app_that_resets_midway_reaches_the_device_as_a_reset_not_as_the_end_of_the_download()
    {
        using var resetsMidway = LoopbackTcpServer.ResettingAfter("the first half");
        await _f.AddAppAsync(DownloadName, resetsMidway.Port);
        await _f.StartConnectorAsync();
        using var client = _f.RelayClient(_f.EngineerDevice);
        await using var stream = Assert.IsType<RelayedStream>(await OpenAsync(client, DownloadName, resetsMidway.Port));

        await stream.WriteAsync("get"u8.ToArray());
        await stream.FlushAsync();
        var (received, end) = await ReadUntilEndAsync(stream).DefaultTimeout();

        // A FIN without close_notify reads as a clean end through TLS: only a reset tells the device the download broke.
        Assert.Equal("the first half", Encoding.ASCII.GetString(received));
        Assert.IsAssignableFrom<IOException>(end);
        var record = await _f.Records.WaitForAsync(r => r.Host == DownloadName);
        Assert.Equal(200, record.Status);
        Assert.Contains("the connector reset the connection", record.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_app_that_ends_its_answer_reaches_the_device_whole_with_a_clean_end()
    {
        var answer = RandomNumberGenerator.GetBytes(256 * 1024);
        using var download = new LoopbackTcpServer(async (socket, ct) =>
        {
            await socket.ReceiveAsync(new byte[16], ct);
            await socket.SendAsync(answer, ct);
            socket.Shutdown(SocketShutdown.Send);
        });
        await _f.AddAppAsync(DownloadName, download.Port);
        await _f.StartConnectorAsync();
        using var client = _f.RelayClient(_f.EngineerDevice);
        var stream = Assert.IsType<RelayedStream>(await OpenAsync(client, DownloadName, download.Port));

        await stream.WriteAsync("get"u8.ToArray());
        await stream.FlushAsync();
        var (received, end) = await ReadUntilEndAsync(stream).DefaultTimeout();
        await stream.DisposeAsync();

        Assert.Null(end);
        Assert.True(answer.AsSpan().SequenceEqual(received), $"{received.Length} bytes of {answer.Length}, or different ones");
        var record = await _f.Records.WaitForAsync(r => r.Host == DownloadName);
        Assert.Equal("app segment corp-download through connector connector-1, relayed end to end", record.Reason);
    }

    [Fact]
    public async Task A_device_that_resets_midway_through_an_upload_reaches_the_app_as_a_reset_not_as_the_end_of_the_upload()
    {
        using var app = new UploadApp();
        await using var stream = await OpenUploadAsync(app);
        var firstHalf = "the first half"u8.ToArray();

        await stream.WriteAsync(firstHalf);
        await stream.FlushAsync();
        await app.ReadAsync(firstHalf);
        stream.Reset();

        // The edge resets the connector's connection, which breaks its TLS session: a FIN to the app would make the
        // half it read look like the whole upload.
        await app.AssertCutAfterAsync(firstHalf);
    }

    [Fact]
    public async Task A_device_that_ends_its_upload_reaches_the_app_whole_with_a_clean_end()
    {
        using var app = new UploadApp();
        await using var stream = await OpenUploadAsync(app);
        var whole = RandomNumberGenerator.GetBytes(256 * 1024);

        await stream.WriteAsync(whole);
        await stream.CompleteWritesAsync();

        await app.AssertEndedAfterAsync(whole);
    }

    [Fact]
    public async Task A_device_that_resets_after_the_app_said_everything_reaches_the_app_as_a_reset()
    {
        using var app = new UploadApp(answer: "the whole answer"u8.ToArray());
        await using var stream = await OpenUploadAsync(app);

        await stream.WriteAsync("get"u8.ToArray());
        await stream.FlushAsync();
        var (answer, end) = await ReadUntilEndAsync(stream).DefaultTimeout();
        Assert.Equal("the whole answer", Encoding.ASCII.GetString(answer));
        Assert.Null(end);
        stream.Reset();

        // The connector's relay counts a device that resets once the app has said all as closing, not breaking, the
        // flow; the device still never ended its upload, and the app, done sending, must not read an end it was not sent.
        await app.AssertCutAfterAsync("get"u8.ToArray());
    }

    [Fact]
    public async Task A_device_revoked_while_its_flow_is_relayed_loses_the_flow()
    {
        await _f.StartConnectorAsync();
        using var client = _f.RelayClient(_f.EngineerDevice);
        await using var stream = await OpenEchoAsync(client, _f);
        Assert.Equal("ping", await PrivateAccessFixture.EchoAsync(stream, "ping"));

        (await _f.Admin.PostAsync($"devices/{_f.EngineerDevice.Identity.SubjectId}/revoke", null)).EnsureSuccessStatusCode();

        // The edge cuts the relay's connections once its bundle says so, with a reset: the device reads a cut, not an end.
        var cut = await Record.ExceptionAsync(async () =>
        {
            using var timeout = new CancellationTokenSource(TestTimeouts.Default);
            while (await stream.ReadAsync(new byte[16], timeout.Token) > 0)
            {
            }
        });
        Assert.IsAssignableFrom<IOException>(cut);
        var record = await _f.Records.WaitForAsync(r => r.Host == PrivateAccessFixture.AppName);
        Assert.Equal(200, record.Status);
    }

    [Fact]
    public async Task A_connector_revoked_while_a_flow_is_relayed_through_it_loses_the_flow()
    {
        // Its links were closed, and flows on them with them; a relayed flow, on connections of its own, ran on for minutes.
        var connector = await _f.StartConnectorAsync();
        using var client = _f.RelayClient(_f.EngineerDevice);
        await using var stream = Assert.IsType<RelayedStream>(await OpenEchoAsync(client, _f));
        Assert.Equal("ping", await PrivateAccessFixture.EchoAsync(stream, "ping"));

        (await _f.Admin.PostAsync($"connectors/{connector.Identity.SubjectId}/revoke", null)).EnsureSuccessStatusCode();

        var cut = await Record.ExceptionAsync(async () =>
        {
            using var timeout = new CancellationTokenSource(TestTimeouts.Default);
            while (await stream.ReadAsync(new byte[16], timeout.Token) > 0)
            {
            }
        });
        Assert.IsAssignableFrom<IOException>(cut);
        var record = await _f.Records.WaitForAsync(r => r.Host == PrivateAccessFixture.AppName);
        Assert.Contains($"connector {connector.Identity.SubjectId} is no longer an active connector of this tenant", record.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_that_does_not_offer_the_relay_gets_the_stream_as_before()
    {
        await _f.StartConnectorAsync();
        using var client = _f.Client(_f.EngineerDevice);

        await using var stream = Assert.IsType<HalfCloseStream>(await OpenEchoAsync(client, _f));

        Assert.Equal("ping", await PrivateAccessFixture.EchoAsync(stream, "ping"));
    }

    [Fact]
    public async Task An_edge_run_with_no_private_relay_carries_an_offering_agent_s_flow_on_the_stream()
    {
        await using var f = await PrivateAccessFixture.StartAsync(relayPrivateFlows: false);
        await f.StartConnectorAsync();
        using var client = f.RelayClient(f.EngineerDevice);

        var stream = Assert.IsType<HalfCloseStream>(await OpenEchoAsync(client, f));

        Assert.Equal("ping", await PrivateAccessFixture.EchoAsync(stream, "ping"));

        // Ended as the agent ends a flow, its half-close and then the app's end: a stream dropped midway is recorded as the client going away.
        stream.CompleteWrites();
        Assert.Equal(0, await stream.ReadAsync(new byte[1]).AsTask().DefaultTimeout());
        await stream.DisposeAsync();
        var record = await f.Records.WaitForAsync(r => r.Host == PrivateAccessFixture.AppName);
        Assert.Equal("app segment corp-echo through connector connector-1", record.Reason);
    }

    [Fact]
    public async Task A_refusal_by_the_access_policy_is_the_same_with_the_relay_offered()
    {
        await _f.StartConnectorAsync();
        using var client = _f.RelayClient(_f.OutsiderDevice);

        var refused = await client.OpenAsync(PrivateAccessFixture.AppName, _f.Echo.Port).DefaultTimeout();

        Assert.Equal(403, refused.Status);
        Assert.Contains("no access rule allows otto@example.test", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(0, _f.Edge.DataPath.Relays!.Pending);
        Assert.Equal(0, _f.Echo.Served);
    }

    [Fact]
    public async Task A_connector_that_cannot_reach_the_app_refuses_with_its_reason_and_the_issued_ticket_is_withdrawn()
    {
        await _f.StartConnectorAsync();

        // Nothing listens on 127.0.0.2: the connector fails the flow after the edge has issued its ticket.
        _f.PrivateDns[PrivateAccessFixture.AppName] = [IPAddress.Parse("127.0.0.2")];
        using var client = _f.RelayClient(_f.EngineerDevice);

        var refused = await client.OpenAsync(PrivateAccessFixture.AppName, _f.Echo.Port).DefaultTimeout();

        Assert.True(refused.Status is 502 or 503, $"{refused.Status} {refused.Reason}");
        Assert.Null(refused.Stream);
        Assert.Equal(0, _f.Edge.DataPath.Relays!.Pending);
        Assert.Equal(0, _f.Edge.DataPath.Relays.Paired);
    }

    [Fact]
    public async Task A_ticket_pairs_once_a_replay_is_closed_and_the_flow_still_works()
    {
        await _f.StartConnectorAsync();
        var (ticket, connectorId) = await AskForTicketAsync(_f.EngineerDevice);
        var edge = _f.Edge.TunnelAddress!;

        await using var first = await ConnectAsync(_f.EngineerDevice, edge, ticket, connectorId);
        var replay = await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(_f.EngineerDevice, edge, ticket, connectorId));

        Assert.True(replay is IOException or AuthenticationException or SocketException, replay.ToString());
        Assert.Equal("ping", await PrivateAccessFixture.EchoAsync(first, "ping"));
        Assert.True(_f.Edge.DataPath.Relays!.Refused >= 1);
        Assert.Equal(1, _f.Edge.DataPath.Relays.Paired);
    }

    [Fact]
    public async Task Another_device_of_the_tenant_with_a_stolen_ticket_is_refused_by_the_connector()
    {
        await _f.StartConnectorAsync();
        var (ticket, connectorId) = await AskForTicketAsync(_f.EngineerDevice);

        // The outsider holds a valid certificate of the same tenant, but not the one the edge admitted. In TLS 1.3 the
        // client may finish its handshake before the server has judged its certificate: the refusal comes on the first read.
        var stolen = await Record.ExceptionAsync(async () =>
        {
            await using var stream = await ConnectAsync(_f.OutsiderDevice, _f.Edge.TunnelAddress!, ticket, connectorId);
            var echoed = await PrivateAccessFixture.EchoAsync(stream, "ping");
            Assert.Equal(string.Empty, echoed);
        });

        Assert.True(stolen is null or IOException or AuthenticationException, stolen?.ToString());
        var record = await _f.Records.WaitForAsync(r => r.Host == PrivateAccessFixture.AppName);
        Assert.Equal(200, record.Status);
        Assert.Equal(0, _f.Echo.Served);
    }

    [Fact]
    public async Task Unknown_tickets_and_broken_preambles_are_closed_without_disturbing_tunnels()
    {
        await _f.StartConnectorAsync();
        var edge = _f.Edge.TunnelAddress!;

        var unknown = await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(_f.EngineerDevice, edge, RelayProtocol.NewTicket(), "nobody"));
        Assert.True(unknown is IOException or AuthenticationException, unknown.ToString());
        foreach (var garbage in new[] { "G"u8.ToArray(), "GHR1\u0003"u8.ToArray().Concat(new byte[32]).ToArray(), "GET / HTTP/1.1\r\n\r\n"u8.ToArray() })
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(edge);
            await socket.SendAsync(garbage);
            socket.Shutdown(SocketShutdown.Send);
            var buffer = new byte[64];
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            Assert.Equal(0, await socket.ReceiveAsync(buffer, SocketFlags.None, wait.Token));
        }

        Assert.Equal("ping", (await _f.OpenAppAsync(_f.EngineerDevice)).Reason);
    }

    [Fact]
    public void The_ends_accept_only_the_peer_the_edge_named()
    {
        var tenantCa = _f.EngineerDevice.TenantCa;
        var tenant = _f.EngineerDevice.Identity.TenantId.ToString();
        using var device = _f.EngineerDevice.CreateCertificateWithKey();
        using var otherCa = TestCertificates.SelfSigned("another tenant CA");
        using var chain = Chain(device, tenantCa);
        using var chainToOther = Chain(device, otherCa);

        Assert.True(RelayedFlow.IsPeer(device, chain, tenantCa, tenant, "device", _ => true));
        Assert.False(RelayedFlow.IsPeer(device, chain, tenantCa, tenant, "connector", _ => true));
        Assert.False(RelayedFlow.IsPeer(device, chain, tenantCa, "another-tenant", "device", _ => true));
        Assert.False(RelayedFlow.IsPeer(device, chain, tenantCa, tenant, "device", _ => false));
        Assert.False(RelayedFlow.IsPeer(null, chain, tenantCa, tenant, "device", _ => true));
        Assert.False(RelayedFlow.IsPeer(device, null, tenantCa, tenant, "device", _ => true));
        Assert.False(RelayedFlow.IsPeer(device, chainToOther, otherCa, tenant, "device", _ => true));
        Assert.False(RelayedFlow.IsPeer(device, chain, otherCa, tenant, "device", _ => true));
    }

    private static X509Chain Chain(X509Certificate2 certificate, X509Certificate2 root)
    {
        var chain = new X509Chain { ChainPolicy = RelayedFlow.TenantChainPolicy(root) };
        chain.Build(certificate);
        return chain;
    }

    /// <summary>Opens the fixture's echo app through <paramref name="client"/>, failing with the edge's reason when it does not open.</summary>
    private static Task<Stream> OpenEchoAsync(TunnelClient client, PrivateAccessFixture f) => OpenAsync(client, PrivateAccessFixture.AppName, f.Echo.Port);

    /// <summary>Opens <paramref name="host"/>:<paramref name="port"/> through <paramref name="client"/>, failing with the edge's reason when it does not open.</summary>
    private static async Task<Stream> OpenAsync(TunnelClient client, string host, int port)
    {
        var opened = await client.OpenAsync(host, port).DefaultTimeout();
        PrivateAccessFixture.AssertOpened(opened);
        return opened.Stream!;
    }

    /// <summary>Makes <see cref="UploadName"/> at <paramref name="app"/>'s port a private app, starts a connector, and opens the app relayed from the engineer's device.</summary>
    private async Task<RelayedStream> OpenUploadAsync(UploadApp app)
    {
        await _f.AddAppAsync(UploadName, app.Port);
        await _f.StartConnectorAsync();

        // The relayed flow is a connection of its own: it outlives the client that opened it.
        using var client = _f.RelayClient(_f.EngineerDevice);
        return Assert.IsType<RelayedStream>(await OpenAsync(client, UploadName, app.Port));
    }

    /// <summary>Asks the edge for the app as an agent would, and returns the ticket and connector it answers with.</summary>
    private async Task<(byte[] Ticket, string ConnectorId)> AskForTicketAsync(NodeCredentials device)
    {
        using var certificate = device.CreateCertificateWithKey();
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [certificate],
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
                EnabledSslProtocols = SslProtocols.Tls13,
            },
        };
        using var http = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"https://{_f.Edge.TunnelAddress}{TunnelProtocol.PathFor(PrivateAccessFixture.AppName, _f.Echo.Port)}")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent([]),
        };
        request.Headers.TryAddWithoutValidation(RelayProtocol.RelayHeader, RelayProtocol.Offer);
        using var response = await http.SendAsync(request).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(RelayProtocol.TryDecodeTicket(Header(response.Headers, RelayProtocol.TicketHeader), out var ticket));
        return (ticket, Header(response.Headers, RelayProtocol.ConnectorHeader)!);
    }

    private static string? Header(HttpResponseHeaders headers, string name) => headers.TryGetValues(name, out var values) ? values.Single() : null;

    private static async Task<RelayedStream> ConnectAsync(NodeCredentials device, IPEndPoint edge, byte[] ticket, string connectorId)
    {
        var certificate = SslStreamCertificateContext.Create(device.CreateCertificateWithKey(), [device.TenantCa], offline: true);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        return await RelayedFlow.ConnectAsDeviceAsync(edge.Address.ToString(), edge.Port, ticket, connectorId, certificate, device.TenantCa, device.Identity.TenantId.ToString(), null, timeout.Token);
    }

    /// <summary>Reads <paramref name="stream"/> until it ends or fails: what came, and the failure if it failed.</summary>
    private static async Task<(byte[] Received, Exception? End)> ReadUntilEndAsync(Stream stream)
    {
        var all = new MemoryStream();
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0)
            {
                all.Write(buffer, 0, read);
            }
        }
        catch (IOException e)
        {
            return (all.ToArray(), e);
        }

        return (all.ToArray(), null);
    }

    private static async Task<byte[]> ReadToEndAsync(Stream stream)
    {
        var all = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            all.Write(buffer, 0, read);
        }

        return all.ToArray();
    }
}
