using System.Net;
using System.Net.Http.Json;
using System.Text;
using Gatehouse.Edge.Flows;
using Gatehouse.Edge.Tests.Proxy;
using Gatehouse.Node.Credentials;
using Gatehouse.Testing;
using Gatehouse.Testing.Portal;
using Gatehouse.Testing.Tls;
using Gatehouse.Trust.Certificates;
using Gatehouse.Tunnel;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Logs;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Edge.Tests.Tunnel;

/// <summary>The agent tunnel listener of a real edge, with devices enrolled at a real portal.</summary>
public sealed class TunnelTests : IAsyncLifetime
{
    private TunnelFixture _t = null!;

    public async Task InitializeAsync() => _t = await TunnelFixture.StartAsync();

    public async Task DisposeAsync() => await _t.DisposeAsync();

    private TunnelClient Client(NodeCredentials device) => _t.Client(device);

    private static Task<string> EchoAsync(Stream stream, string text) => TunnelFixture.EchoAsync(stream, text);

    /// <summary>Puts a policy of one rule and waits until the edge has it in force.</summary>
    private async Task PutRuleInForceAsync(PolicyRuleSpec rule)
    {
        await _t.PutPolicyAsync(rule);
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        while (_t.Edge.Policy.State?.RuleCount != 1)
        {
            await Task.Delay(50, timeout.Token);
        }
    }

    [Theory]
    [InlineData(TunnelFlowForm.Post)]
    [InlineData(TunnelFlowForm.ExtendedConnect)]
    public async Task An_enrolled_device_opens_a_flow_that_carries_bytes_both_ways_and_is_logged(TunnelFlowForm form)
    {
        using var client = Client(_t.Device);

        var opened = await client.OpenAsync("localhost", _t.Echo.Port, new TunnelFlowMetadata(FlowId: "flow-1", Network: "trusted", Posture: ["disk-encrypted"]), form);
        Assert.True(opened.IsOpen, $"{opened.Status} {opened.Reason}");
        await using (opened.Stream)
        {
            Assert.Equal("hello through the tunnel", await EchoAsync(opened.Stream!, "hello through the tunnel"));
        }

        var record = await _t.Recorder.WaitForAsync(r => r.Listener == TransactionListeners.Tunnel && r.Action == TransactionActions.Allow);
        Assert.Equal(_t.Device.Identity.SubjectId.ToString(), record.DeviceId);
        Assert.Equal(_t.User.Id.ToString(), record.UserId);
        Assert.Equal(_t.User.Email, record.UserEmail);
        Assert.Equal("localhost", record.Host);
        Assert.Equal(_t.Echo.Port, record.Port);
        Assert.Equal(24, record.BytesUp);
        Assert.Equal(24, record.BytesDown);
    }

    [Theory]
    [InlineData(TunnelFlowForm.Post)]
    [InlineData(TunnelFlowForm.ExtendedConnect)]
    public async Task A_request_written_without_a_flush_is_sent_and_every_flow_of_a_connection_gets_its_whole_download(TunnelFlowForm form)
    {
        // As a browser's connections through the agent: ask, read a megabyte, keep the connection (and a read) open.
        using var origin = new DownloadServer(1024 * 1024);
        using var client = Client(_t.Device);
        var open = new List<Stream>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var opened = await client.OpenAsync("localhost", origin.Port, form: form).DefaultTimeout();
                Assert.True(opened.IsOpen, $"{opened.Status} {opened.Reason}");
                var stream = opened.Stream!;
                var received = new byte[origin.Size];
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

                // The read waits before the request goes, and the request is written without a flush, as
                // Stream.CopyToAsync does in a relay that copies both ways at once.
                var first = stream.ReadAsync(received, timeout.Token);
                await stream.WriteAsync("GET\n"u8.ToArray(), timeout.Token);
                var read = await first;
                while (read < received.Length)
                {
                    var n = await stream.ReadAsync(received.AsMemory(read), timeout.Token);
                    Assert.True(n > 0, $"flow {i}: the stream ended after {read} bytes");
                    read += n;
                }

                open.Add(stream);
                _ = stream.ReadAsync(new byte[1]).AsTask(); // left waiting while the next flows run
            }
        }
        finally
        {
            foreach (var stream in open)
            {
                await stream.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_blocked_destination_gets_403_with_rule_and_reference_and_nothing_is_dialled()
    {
        await PutRuleInForceAsync(new PolicyRuleSpec { Name = "no-echo", Action = PolicyActions.Block, Criteria = new PolicyCriteria { Ports = [_t.Echo.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)] } });

        using var client = Client(_t.Device);
        var refused = await client.OpenAsync("localhost", _t.Echo.Port);

        Assert.False(refused.IsOpen);
        Assert.Equal(403, refused.Status);
        Assert.Equal("no-echo", refused.Rule);
        Assert.NotNull(refused.Reference);
        Assert.Equal(0, _t.Echo.Accepted);
        var record = await _t.Recorder.WaitForAsync(r => r.Action == TransactionActions.Block);
        Assert.Equal(refused.Reference, record.ReferenceId);
        Assert.Null(record.Method); // the stream's POST is the tunnel's own; `logs query` showed it as the user's request
    }

    [Theory]
    [InlineData(TunnelFlowForm.Post, 0, "localhost")]
    [InlineData(TunnelFlowForm.ExtendedConnect, 0, "localhost")]
    [InlineData(TunnelFlowForm.Post, 3, "localhost")]
    [InlineData(TunnelFlowForm.Post, 0, "127.0.0.1")]
    public async Task A_flow_to_an_allowed_host_cannot_carry_a_tls_session_for_a_blocked_one(TunnelFlowForm form, int fragmentBytes, string host)
    {
        // As CONNECT through the forward proxy: the ClientHello's server name is decided too, whole or in fragments.
        await PutRuleInForceAsync(new PolicyRuleSpec { Name = "no-blocked", Action = PolicyActions.Block, Criteria = new PolicyCriteria { Domains = ["www.blocked.example"] } });
        var hello = await ClientHelloTests.CaptureAsync("www.blocked.example");
        if (fragmentBytes > 0)
        {
            hello = ClientHelloTests.Fragment(ClientHelloTests.Message(hello), fragmentBytes);
        }

        using var client = Client(_t.Device);
        var opened = await client.OpenAsync(host, _t.Echo.Port, form: form);
        Assert.True(opened.IsOpen, $"{opened.Status} {opened.Reason}");
        await using (opened.Stream)
        {
            await opened.Stream!.WriteAsync(hello);
            await opened.Stream.FlushAsync();
            var answer = await ProxyFixture.ReadAsync(opened.Stream, until: null, TimeSpan.FromSeconds(10));
            Assert.Empty(answer);
        }

        var record = await _t.Recorder.WaitForAsync(r => r.Listener == TransactionListeners.Tunnel && r.Port == _t.Echo.Port);
        Assert.Equal((TransactionActions.Block, "no-blocked", 0L), (record.Action, record.Rule, record.BytesUp));
        Assert.Equal("TLS server name www.blocked.example: blocked by rule no-blocked", record.Reason);
        Assert.Equal("www.blocked.example", record.Sni);
        Assert.NotNull(record.ReferenceId);
        Assert.Equal(0, _t.Echo.Served);
    }

    [Theory]
    [InlineData(TunnelFlowForm.Post)]
    [InlineData(TunnelFlowForm.ExtendedConnect)]
    public async Task A_tls_record_before_the_ClientHello_cuts_the_flow(TunnelFlowForm form)
    {
        // A ChangeCipherSpec first let the ClientHello after it through unread, blocked name and all.
        await PutRuleInForceAsync(new PolicyRuleSpec { Name = "no-blocked", Action = PolicyActions.Block, Criteria = new PolicyCriteria { Domains = ["www.blocked.example"] } });
        var hello = ClientHellos.Build(ClientHellos.ServerNames((0, Encoding.ASCII.GetBytes("www.blocked.example"))));

        var (answer, record) = await SendFirstAsync("localhost", [0x14, 0x03, 0x03, 0x00, 0x01, 0x01, .. hello], form);

        Assert.Empty(answer);
        Assert.Equal((TransactionActions.Denied, 0L), (record.Action, record.BytesUp));
        Assert.Equal("the TLS ClientHello cannot be read (its first record is a ChangeCipherSpec, not a handshake), so its server name cannot be checked", record.Reason);
        Assert.Equal(0, _t.Echo.Served);
    }

    [Theory]
    [InlineData(TunnelFlowForm.Post, "localhost")]
    [InlineData(TunnelFlowForm.ExtendedConnect, "localhost")]
    [InlineData(TunnelFlowForm.Post, "127.0.0.1")]
    public async Task A_flow_to_an_allowed_host_cannot_carry_a_plain_http_request_for_a_blocked_one(TunnelFlowForm form, string host)
    {
        // Virtual hosting: the flow's address serves the blocked site too, if asked for it by name.
        await PutRuleInForceAsync(new PolicyRuleSpec { Name = "no-blocked", Action = PolicyActions.Block, Criteria = new PolicyCriteria { Domains = ["www.blocked.example"] } });

        var (answer, record) = await SendFirstAsync(host, "GET /page?q=1 HTTP/1.1\r\nHost: www.blocked.example\r\nAccept: */*\r\n\r\n", form);

        Assert.Empty(answer);
        Assert.Equal((TransactionActions.Block, "no-blocked", 0L), (record.Action, record.Rule, record.BytesUp));
        Assert.Equal("HTTP request for http://www.blocked.example/page?q=1: blocked by rule no-blocked", record.Reason);
        Assert.Equal(("GET", "http://www.blocked.example/page?q=1"), (record.Method, record.Url));
        Assert.NotNull(record.ReferenceId);
        Assert.Equal(0, _t.Echo.Served);
    }

    [Fact]
    public async Task A_plain_http_request_in_a_flow_is_decided_as_http_and_recorded_with_its_method_and_url()
    {
        // A rule for the protocol: the agent's plain-HTTP requests were decided as TCP and passed.
        await PutRuleInForceAsync(new PolicyRuleSpec { Name = "no-cleartext", Action = PolicyActions.Block, Criteria = new PolicyCriteria { Protocols = ["http"] } });
        var request = $"POST /form HTTP/1.1\r\nHost: localhost:{_t.Echo.Port}\r\nContent-Length: 0\r\n\r\n";

        var (answer, record) = await SendFirstAsync("localhost", request);

        Assert.Empty(answer);
        Assert.Equal((TransactionActions.Block, "no-cleartext"), (record.Action, record.Rule));
        Assert.Equal(("POST", $"http://localhost:{_t.Echo.Port}/form"), (record.Method, record.Url));
    }

    [Fact]
    public async Task An_allowed_plain_http_request_goes_through_and_its_record_has_the_url()
    {
        var request = $"GET /a HTTP/1.1\r\nHost: localhost:{_t.Echo.Port}\r\n\r\n";

        var (answer, record) = await SendFirstAsync("localhost", request);

        Assert.Equal(request, answer);
        Assert.Equal(TransactionActions.Allow, record.Action);
        Assert.Equal(("GET", $"http://localhost:{_t.Echo.Port}/a"), (record.Method, record.Url));
    }

    /// <summary>Opens a flow to the echo server as the device, sends <paramref name="first"/>, ends its side, and returns what came back and the flow's record.</summary>
    private Task<(string Answer, TransactionLogRecord Record)> SendFirstAsync(string host, string first, TunnelFlowForm form = TunnelFlowForm.Post) =>
        SendFirstAsync(host, Encoding.ASCII.GetBytes(first), form);

    private async Task<(string Answer, TransactionLogRecord Record)> SendFirstAsync(string host, byte[] first, TunnelFlowForm form = TunnelFlowForm.Post)
    {
        using var client = Client(_t.Device);
        var opened = await client.OpenAsync(host, _t.Echo.Port, form: form);
        Assert.True(opened.IsOpen, $"{opened.Status} {opened.Reason}");
        string answer;
        await using (opened.Stream)
        {
            await opened.Stream!.WriteAsync(first);
            await opened.Stream.FlushAsync();
            if (opened.Stream is HalfCloseStream halfClose)
            {
                halfClose.CompleteWrites();
            }

            answer = await ProxyFixture.ReadAsync(opened.Stream, until: null, TimeSpan.FromSeconds(10));
        }

        var record = await _t.Recorder.WaitForAsync(r => r.Listener == TransactionListeners.Tunnel && r.Port == _t.Echo.Port);
        return (answer, record);
    }

    [Fact]
    public async Task A_name_is_never_dialled_at_an_address_the_policy_blocks_when_its_first_address_fails()
    {
        // 127.0.0.2 answers nothing on the echo server's port; 127.0.0.1, which a rule blocks, would.
        await _t.RestartEdgeAsync(_t.Options() with
        {
            ResolveHost = (host, ct) => host == "multi.example" ? Task.FromResult<IPAddress[]>([IPAddress.Parse("127.0.0.2"), IPAddress.Loopback]) : Dns.GetHostAddressesAsync(host, ct),
        });
        await PutRuleInForceAsync(new PolicyRuleSpec { Name = "no-inner", Action = PolicyActions.Block, Criteria = new PolicyCriteria { Cidrs = ["127.0.0.1/32"] } });

        using var client = Client(_t.Device);
        var refused = await client.OpenAsync("multi.example", _t.Echo.Port);

        Assert.False(refused.IsOpen);
        Assert.Equal(502, refused.Status);
        Assert.Equal(0, _t.Echo.Accepted);
    }

    [Fact]
    public async Task Half_close_over_post_reaches_the_destination_and_its_remaining_bytes_come_back()
    {
        using var client = Client(_t.Device);

        var opened = await client.OpenAsync("localhost", _t.Echo.Port);
        Assert.True(opened.IsOpen, $"{opened.Status} {opened.Reason}");
        var stream = (HalfCloseStream)opened.Stream!;
        await stream.WriteAsync("last words"u8.ToArray());
        await stream.FlushAsync();
        stream.CompleteWrites();

        // The echo server answers and then, having read the end, closes its side: both arrive.
        var all = await ProxyFixture.ReadAsync(stream, null, TimeSpan.FromSeconds(10));
        Assert.True("last words" == all, $"got '{all}'; echo accepted {_t.Echo.Accepted}; records: {string.Join(" | ", _t.Recorder.Records)}");
        await stream.DisposeAsync();
    }

    [Theory]
    [InlineData(TunnelFlowForm.Post)]
    [InlineData(TunnelFlowForm.ExtendedConnect)]
    public async Task Many_concurrent_flows_share_one_client(TunnelFlowForm form)
    {
        using var client = Client(_t.Device);

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            var opened = await client.OpenAsync("localhost", _t.Echo.Port, form: form);
            await using var stream = opened.Stream!;
            return await EchoAsync(stream, $"flow {i:000}");
        }));

        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"flow {i:000}"), results);
    }

    [Fact]
    public async Task A_new_policy_applies_to_new_flows_without_cutting_an_open_one()
    {
        using var client = Client(_t.Device);
        var open = await client.OpenAsync("localhost", _t.Echo.Port);
        await using var stream = open.Stream!;
        Assert.Equal("before", await EchoAsync(stream, "before"));

        await PutRuleInForceAsync(new PolicyRuleSpec { Name = "no-localhost", Action = PolicyActions.Block, Criteria = new PolicyCriteria { Domains = ["localhost"] } });

        Assert.Equal("after", await EchoAsync(stream, "after"));
        Assert.Equal(403, (await client.OpenAsync("localhost", _t.Echo.Port)).Status);
    }

    [Theory]
    [InlineData(TunnelFlowForm.Post)]
    [InlineData(TunnelFlowForm.ExtendedConnect)]
    public async Task An_idle_flow_is_cut_and_the_next_flow_on_the_same_connection_opens_at_once(TunnelFlowForm form)
    {
        await using var edge = await TunnelFixture.StartAsync(new EdgeLimits { IdleTimeout = TimeSpan.FromSeconds(1) });
        using var client = edge.Client(edge.Device);
        var first = await client.OpenAsync("localhost", edge.Echo.Port, form: form);
        await using var stream = first.Stream!;
        Assert.Equal("once", await EchoAsync(stream, "once"));

        // Idle for a second: the edge cuts the flow; the connection itself stays up and idle.
        Assert.Equal(string.Empty, await ProxyFixture.ReadAsync(stream, null, TimeSpan.FromSeconds(10)));

        // HttpClient holds back a POST's headers until its body flushes: unflushed, they waited for the
        // next keep-alive PING, 30 s later.
        var second = await client.OpenAsync("localhost", edge.Echo.Port, form: form).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(second.IsOpen, $"{second.Status} {second.Reason}");
        await using var again = second.Stream!;
        Assert.Equal("twice", await EchoAsync(again, "twice"));
        Assert.Equal(1, edge.Edge.DataPath.Flows.IdleClosed);
    }

    [Theory]
    [InlineData(TunnelFlowForm.Post)]
    [InlineData(TunnelFlowForm.ExtendedConnect)]
    public async Task A_flow_its_destination_resets_is_recorded_as_allowed_and_reset_by_the_destination(TunnelFlowForm form)
    {
        using var resetsMidway = LoopbackTcpServer.ResettingAfter("the first half");
        using var client = Client(_t.Device);
        var opened = await client.OpenAsync("localhost", resetsMidway.Port, form: form);
        Assert.True(opened.IsOpen, $"{opened.Status} {opened.Reason}");
        await using var stream = opened.Stream!;

        await stream.WriteAsync("GO\r\n"u8.ToArray());
        await stream.FlushAsync();

        Assert.Equal("the first half", await ProxyFixture.ReadAsync(stream, null, TimeSpan.FromSeconds(10)));
        var record = await _t.Recorder.WaitForAsync(r => r.Listener == TransactionListeners.Tunnel && r.Port == resetsMidway.Port);
        Assert.Equal((TransactionActions.Allow, 200, "the destination reset the connection"), (record.Action, record.Status, record.Reason));
    }

    [Theory]
    [InlineData(TunnelFlowForm.Post)]
    [InlineData(TunnelFlowForm.ExtendedConnect)]
    public async Task A_device_that_resets_its_flows_stream_mid_upload_resets_the_destination_so_the_cut_upload_does_not_look_complete(TunnelFlowForm form)
    {
        using var destination = new UploadApp();
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        await using var connection = await OpenRawFlowAsync(destination.Port, form, timeout.Token);
        var firstHalf = "the first half of an upload"u8.ToArray();
        await connection.SendDataAsync(connection.LastStream, firstHalf, endStream: false, timeout.Token);
        await destination.ReadAsync(firstHalf);

        await connection.ResetStreamAsync(connection.LastStream, RawTunnelConnection.Cancel, timeout.Token);

        await destination.AssertCutAfterAsync(firstHalf);
    }

    [Fact]
    public async Task A_device_that_resets_its_flows_stream_once_the_destination_said_all_it_had_resets_the_destination_too_but_breaks_nothing_in_the_record()
    {
        // The destination has ended its side and reads on: a FIN now would tell it the upload is complete, which the
        // device never said. Nothing the destination sent is lost by a reset: the edge has all of it.
        using var destination = new UploadApp(answer: "all there is"u8.ToArray());
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        await using var connection = await OpenRawFlowAsync(destination.Port, TunnelFlowForm.Post, timeout.Token);
        var upload = "an upload the device gives up on"u8.ToArray();
        await connection.SendDataAsync(connection.LastStream, upload, endStream: false, timeout.Token);
        Assert.Equal("all there is", await connection.ReadBodyAsync(connection.LastStream, timeout.Token));
        await destination.ReadAsync(upload);

        await connection.ResetStreamAsync(connection.LastStream, RawTunnelConnection.Cancel, timeout.Token);

        await destination.AssertCutAfterAsync(upload);
        var record = await _t.Recorder.WaitForAsync(r => r.Listener == TransactionListeners.Tunnel && r.Port == destination.Port);
        Assert.Equal((TransactionActions.Allow, 200, null), (record.Action, record.Status, record.Reason));
    }

    [Fact]
    public async Task A_device_that_ends_its_flows_request_body_gives_the_destination_a_clean_end()
    {
        using var destination = new UploadApp();
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        await using var connection = await OpenRawFlowAsync(destination.Port, TunnelFlowForm.Post, timeout.Token);
        var whole = "the whole upload"u8.ToArray();

        await connection.SendDataAsync(connection.LastStream, whole, endStream: true, timeout.Token);

        await destination.AssertEndedAfterAsync(whole);
    }

    /// <summary>A flow to <paramref name="port"/> on localhost, opened frame by frame (so that a test can reset its stream), answered 200.</summary>
    private async Task<RawTunnelConnection> OpenRawFlowAsync(int port, TunnelFlowForm form, CancellationToken ct)
    {
        using var device = _t.Device.CreateCertificateWithKey();
        var connection = await RawTunnelConnection.OpenAsync(_t.TunnelAddress, device, _t.Device.TenantCa, _t.Device.Identity.TenantId.ToString(), ct);
        try
        {
            List<KeyValuePair<string, string>> request =
            [
                new(":method", form == TunnelFlowForm.Post ? "POST" : "CONNECT"),
                new(":scheme", "https"),
                new(":authority", _t.TunnelAddress.ToString()),
                new(":path", Gatehouse.Wire.Tunnel.TunnelProtocol.PathFor("localhost", port)),
            ];
            if (form == TunnelFlowForm.ExtendedConnect)
            {
                request.Add(new(":protocol", Gatehouse.Wire.Tunnel.TunnelProtocol.ConnectProtocol));
            }

            var answer = await connection.SendAsync(request, endStream: false, ct);
            Assert.True(answer.Status == 200, $"the flow did not open: {answer}");
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task Without_a_client_certificate_the_handshake_fails_and_nothing_is_reached()
    {
        using var handler = new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } };
        using var http = new HttpClient(handler);
        var request = new HttpRequestMessage(HttpMethod.Post, $"https://{_t.Edge.TunnelAddress}{Gatehouse.Wire.Tunnel.TunnelProtocol.PathFor("localhost", _t.Echo.Port)}") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };

        await Assert.ThrowsAsync<HttpRequestException>(() => http.SendAsync(request));
        Assert.Equal(0, _t.Echo.Accepted);
    }

    [Fact]
    public async Task A_refusal_no_rule_decided_has_no_rule_header()
    {
        using var device = _t.Device.CreateCertificateWithKey();
        using var handler = new SocketsHttpHandler { SslOptions = { ClientCertificates = [device], RemoteCertificateValidationCallback = (_, _, _, _) => true } };
        using var http = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"https://{_t.Edge.TunnelAddress}/not-a-flow") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };

        using var refused = await http.SendAsync(request).DefaultTimeout();

        // It came empty, and a client that took an empty value for a name showed a rule called "".
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.False(refused.Headers.Contains(Gatehouse.Wire.Tunnel.TunnelProtocol.RuleHeader));
        Assert.True(refused.Headers.Contains(Gatehouse.Wire.Tunnel.TunnelProtocol.ReasonHeader));
        Assert.True(refused.Headers.Contains(Gatehouse.Wire.Tunnel.TunnelProtocol.ReferenceHeader));
        Assert.Empty(refused.Headers.Server); // as the portal's: no "Kestrel"
    }

    [Fact]
    public async Task Another_tenants_certificate_is_refused_in_the_handshake()
    {
        using var otherCa = CertificateAuthority.Create("0195f000-0000-7000-8000-00000000bbbb", "other tenant", TimeProvider.System);
        using var key = CertificateSigningRequests.CreateKey();
        var issued = otherCa.Issue(CertificateSigningRequests.Create(key, "stranger"), new CertificateIdentity("0195f000-0000-7000-8000-00000000bbbb", IdentityKinds.Device, "0195f000-0000-7000-8000-00000000cccc"), TimeSpan.FromDays(1));
        using var stranger = System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions.CopyWithPrivateKey(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(issued.CertificatePem), key);

        using var client = new TunnelClient(_t.Edge.TunnelAddress!.ToString(), stranger, _t.Device.TenantCa, _t.Device.Identity.TenantId.ToString());
        var refused = await client.OpenAsync("localhost", _t.Echo.Port);

        Assert.False(refused.IsOpen);
        Assert.Equal(0, refused.Status);
        Assert.Equal(0, _t.Echo.Accepted);
    }

    [Theory]
    [InlineData(TunnelFlowForm.Post)]
    [InlineData(TunnelFlowForm.ExtendedConnect)]
    public async Task A_device_revoked_while_connected_loses_its_open_flows_and_cannot_open_new_ones_nor_connect_again(TunnelFlowForm form)
    {
        using var client = Client(_t.Device);
        var open = await client.OpenAsync("localhost", _t.Echo.Port, form: form);
        Assert.True(open.IsOpen);
        await using var stream = open.Stream!;
        Assert.Equal("before", await EchoAsync(stream, "before"));

        (await _t.Admin.PostAsync($"devices/{_t.Device.Identity.SubjectId}/revoke", null)).EnsureSuccessStatusCode();
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        while (_t.Edge.Policy.Identities.Trust.RevokedCount == 0)
        {
            await Task.Delay(50, timeout.Token);
        }

        // The open flow is cut, a new stream on the same connection is refused, and a new connection fails its handshake.
        Assert.Equal(string.Empty, await ProxyFixture.ReadAsync(stream, null, TimeSpan.FromSeconds(10)));
        var onOpenConnection = await client.OpenAsync("localhost", _t.Echo.Port, form: form).WaitAsync(TimeSpan.FromSeconds(10));
        using var fresh = Client(_t.Device);
        var onNewConnection = await fresh.OpenAsync("localhost", _t.Echo.Port);

        Assert.False(onOpenConnection.IsOpen);
        Assert.True(onOpenConnection.Status is 403 or 0, $"{onOpenConnection.Status} {onOpenConnection.Reason}");
        if (onOpenConnection.Status == 403)
        {
            Assert.Contains("revoked", onOpenConnection.Reason, StringComparison.Ordinal);
        }

        Assert.False(onNewConnection.IsOpen);
        Assert.Equal(0, onNewConnection.Status);
        Assert.Equal(1, _t.Echo.Accepted);
        var record = await _t.Recorder.WaitForAsync(r => r.Action == TransactionActions.Allow && r.Listener == TransactionListeners.Tunnel);
        Assert.Equal($"ended by the edge: {_t.Device.Identity.SubjectId} was revoked", record.Reason);
    }

    [Fact]
    public async Task A_disabled_users_open_flows_end_and_new_ones_are_refused()
    {
        using var client = Client(_t.Device);
        var open = await client.OpenAsync("localhost", _t.Echo.Port);
        Assert.True(open.IsOpen);
        await using var stream = open.Stream!;
        Assert.Equal("before", await EchoAsync(stream, "before"));
        var bundle = _t.Edge.Policy.State!.Version;

        (await _t.Admin.PatchAsJsonAsync($"users/{_t.User.Id}", new UpdateUserRequest(Disabled: true), TestPortal.Json)).EnsureSuccessStatusCode();
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        while (_t.Edge.Policy.State!.Version == bundle)
        {
            await Task.Delay(50, timeout.Token);
        }

        // Until now the open flow went on for as long as it carried something; only new ones were refused.
        Assert.Equal(string.Empty, await ProxyFixture.ReadAsync(stream, null, TimeSpan.FromSeconds(10)));
        var refused = await client.OpenAsync("localhost", _t.Echo.Port).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((false, 403), (refused.IsOpen, refused.Status));
        Assert.Contains("the user is disabled", refused.Reason, StringComparison.Ordinal);
        var record = await _t.Recorder.WaitForAsync(r => r.Action == TransactionActions.Allow && r.Listener == TransactionListeners.Tunnel);
        Assert.Equal("ended by the edge: its user was disabled", record.Reason);
    }

    [Fact]
    public async Task Egress_to_loopback_is_refused_when_the_edge_does_not_allow_it()
    {
        await _t.RestartEdgeAsync(_t.Options(allowLoopback: false));
        using var client = Client(_t.Device);

        var refused = await client.OpenAsync("127.0.0.1", _t.Echo.Port);

        Assert.Equal(403, refused.Status);
        Assert.Null(refused.Rule); // the agent reads no rule header as no rule
        Assert.StartsWith("egress refused", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(0, _t.Echo.Accepted);
    }
}
