using System.Net.Sockets;
using System.Text;
using Gatehouse.Agent.DataPlane;
using Gatehouse.Testing;
using Gatehouse.Testing.Pac;
using Gatehouse.Wire.Agent;
using Gatehouse.Wire.Sockets;

namespace Gatehouse.Agent.Tests.LocalProxy;

/// <summary>The local-proxy mode end to end: curl → agent's local proxy → HTTP/2 mutual-TLS tunnel → edge → origin.</summary>
public sealed class LocalProxyTests
{
    private static async Task<DataPlaneHost> StartDataPlaneAsync(AgentFixture fixture)
    {
        var host = fixture.StartDataPlane();
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(host.Status.State == AgentStates.Connected), "the agent to connect to the edge");
        return host;
    }

    private static string Proxy(DataPlaneHost host) => $"http://{host.ProxyAddress}";

    [Fact]
    public async Task Plain_http_goes_through_the_edge_and_is_counted()
    {
        await using var fixture = await AgentFixture.StartAsync();
        await fixture.EnrollDeviceAsync();
        await using var agent = await StartDataPlaneAsync(fixture);

        var (code, output, error) = await AgentFixture.CurlAsync("-x", Proxy(agent), fixture.OriginUrl);

        Assert.True(code == 0, error);
        Assert.Contains("\"policyRules\"", output, StringComparison.Ordinal);

        await AgentFixture.WaitUntilAsync(() => Task.FromResult(agent.Status.FlowsOpen == 0), "the flow to end");
        var status = agent.Status;
        Assert.Equal("edge-1 (127.0.0.1:" + fixture.TunnelPort + ")", status.Edge);
        Assert.Equal(1, status.FlowsTotal);
        Assert.True(status.BytesDown > output.Length, $"{status.BytesDown} bytes down");
    }

    [Fact]
    public async Task Bytes_are_counted_while_a_flow_is_still_open()
    {
        await using var fixture = await AgentFixture.StartAsync();
        await fixture.EnrollDeviceAsync();
        await using var agent = await StartDataPlaneAsync(fixture);
        using var origin = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        origin.Start();
        var port = ((System.Net.IPEndPoint)origin.LocalEndpoint).Port;

        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(agent.ProxyAddress.Address, agent.ProxyAddress.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"));
        using var server = await origin.AcceptTcpClientAsync().DefaultTimeout();
        await server.GetStream().WriteAsync(new byte[100_000]); // and keeps the connection open

        await AgentFixture.WaitUntilAsync(() => Task.FromResult(agent.Status.BytesDown >= 100_000), "the bytes of the open flow to count", () => agent.Status);
        Assert.Equal(1, agent.Status.FlowsOpen);
    }

    [Fact]
    public async Task A_destination_that_resets_mid_download_resets_the_application_too_so_the_cut_does_not_look_complete()
    {
        // A download whose end is the connection's end (HTTP/1.0, a tar stream) looks complete after a FIN.
        await using var fixture = await AgentFixture.StartAsync();
        await fixture.EnrollDeviceAsync();
        await using var agent = await StartDataPlaneAsync(fixture);
        using var resetsMidway = SendsThenEnds("the first half", reset: true);

        await using var stream = await ConnectThroughAsync(agent, resetsMidway.Port);

        Assert.Equal("the first half", await ReadAsync(stream, "the first half".Length));
        var end = await Assert.ThrowsAsync<IOException>(async () => await stream.ReadAsync(new byte[16]).AsTask().DefaultTimeout());
        Assert.Equal(SocketError.ConnectionReset, Assert.IsType<SocketException>(end.InnerException).SocketErrorCode);
    }

    [Fact]
    public async Task A_plain_http_response_cut_in_the_middle_resets_the_application()
    {
        await using var fixture = await AgentFixture.StartAsync();
        await fixture.EnrollDeviceAsync();
        await using var agent = await StartDataPlaneAsync(fixture);
        const string answer = "HTTP/1.0 200 OK\r\n\r\nthe first half";
        using var resetsMidway = SendsThenEnds(answer, reset: true);

        await using var stream = await GetThroughAsync(agent, resetsMidway.Port, "HTTP/1.0");

        const string marked = "HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nthe first half";
        Assert.Equal(marked, await ReadAsync(stream, marked.Length));
        var end = await Assert.ThrowsAsync<IOException>(async () => await stream.ReadAsync(new byte[16]).AsTask().DefaultTimeout());
        Assert.Equal(SocketError.ConnectionReset, Assert.IsType<SocketException>(end.InnerException).SocketErrorCode);
    }

    [Fact]
    public async Task A_plain_http_response_says_the_connection_closes_when_the_destination_did_not()
    {
        // The local proxy keeps no connection open after a plain-HTTP request; an application that was not
        // told so would send its next request on a connection that is closing, and lose it.
        await using var fixture = await AgentFixture.StartAsync();
        await fixture.EnrollDeviceAsync();
        await using var agent = await StartDataPlaneAsync(fixture);
        using var keepsQuiet = SendsThenEnds("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", reset: false);

        await using var stream = await GetThroughAsync(agent, keepsQuiet.Port, "HTTP/1.1");

        const string marked = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok";
        Assert.Equal(marked, await ReadAsync(stream, marked.Length));
        Assert.Equal(0, await stream.ReadAsync(new byte[16]).AsTask().DefaultTimeout());
    }

    [Fact]
    public async Task A_destination_that_ends_cleanly_gives_the_application_every_byte_and_a_clean_end()
    {
        await using var fixture = await AgentFixture.StartAsync();
        await fixture.EnrollDeviceAsync();
        await using var agent = await StartDataPlaneAsync(fixture);
        var body = new string('x', 200_000);
        using var endsCleanly = SendsThenEnds(body, reset: false);

        await using var stream = await ConnectThroughAsync(agent, endsCleanly.Port);

        Assert.Equal(body, await ReadAsync(stream, body.Length));
        Assert.Equal(0, await stream.ReadAsync(new byte[16]).AsTask().DefaultTimeout());
    }

    [Fact]
    public async Task An_application_that_resets_mid_upload_cuts_the_flow_at_the_destination_at_once()
    {
        // Not left waiting for the rest of the upload until an idle timeout.
        await using var fixture = await AgentFixture.StartAsync();
        await fixture.EnrollDeviceAsync();
        await using var agent = await StartDataPlaneAsync(fixture);
        using var destination = new UploadApp();
        await using var stream = await ConnectThroughAsync(agent, destination.Port);
        await destination.ReadAsync(FirstBytes);

        AbortiveClose.Reset(stream.Socket);

        // The agent resets the tunnel stream at once, and the edge resets the destination: a FIN would tell it the upload ended.
        var received = await destination.Received.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(FirstBytes, received.Bytes);
        Assert.Equal(SocketError.ConnectionReset, received.Cut);
    }

    [Fact]
    public async Task An_application_that_half_closes_after_its_upload_still_gets_the_destination_s_whole_answer()
    {
        await using var fixture = await AgentFixture.StartAsync();
        await fixture.EnrollDeviceAsync();
        await using var agent = await StartDataPlaneAsync(fixture);
        var answer = "got it\n" + new string('x', 200_000); // more than one read's worth
        using var destination = new UploadApp(answerAtEnd: Encoding.ASCII.GetBytes(answer));
        await using var stream = await ConnectThroughAsync(agent, destination.Port);

        stream.Socket.Shutdown(SocketShutdown.Send);

        Assert.Equal(answer, await ReadAsync(stream, answer.Length));
        Assert.Equal(0, await stream.ReadAsync(new byte[16]).AsTask().DefaultTimeout());
        await destination.AssertEndedAfterAsync(FirstBytes);
    }

    /// <summary>A destination that answers the application's first bytes with <paramref name="answer"/>, then closes or resets.</summary>
    private static LoopbackTcpServer SendsThenEnds(string answer, bool reset) => new(async (socket, ct) =>
    {
        await socket.ReceiveAsync(new byte[4096], ct);
        await socket.SendAsync(Encoding.ASCII.GetBytes(answer), ct);
        if (reset)
        {
            await Task.Delay(200, ct);
            socket.LingerState = new LingerOption(enable: true, seconds: 0);
            socket.Close();
        }
        else
        {
            socket.Shutdown(SocketShutdown.Send);
        }
    });

    /// <summary>Opens a CONNECT flow through the local proxy to a loopback port and sends the destination its first bytes.</summary>
    /// <summary>Asks the local proxy for <c>http://127.0.0.1:<paramref name="port"/>/</c> in <paramref name="version"/>.</summary>
    private static async Task<NetworkStream> GetThroughAsync(DataPlaneHost agent, int port, string version)
    {
        var client = new TcpClient();
        await client.ConnectAsync(agent.ProxyAddress.Address, agent.ProxyAddress.Port).DefaultTimeout();
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET http://127.0.0.1:{port}/ {version}\r\nHost: 127.0.0.1:{port}\r\n\r\n"));
        return stream;
    }

    private static async Task<NetworkStream> ConnectThroughAsync(DataPlaneHost agent, int port)
    {
        var client = new TcpClient();
        await client.ConnectAsync(agent.ProxyAddress.Address, agent.ProxyAddress.Port).DefaultTimeout();
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"));
        const string established = "HTTP/1.1 200 Connection established\r\n\r\n";
        Assert.Equal(established, await ReadAsync(stream, established.Length));
        await stream.WriteAsync(FirstBytes);
        return stream;
    }

    /// <summary>What <see cref="ConnectThroughAsync"/> sends the destination first.</summary>
    private static readonly byte[] FirstBytes = "GO\r\n"u8.ToArray();

    private static async Task<string> ReadAsync(NetworkStream stream, int length)
    {
        var buffer = new byte[length];
        await stream.ReadExactlyAsync(buffer).AsTask().DefaultTimeout();
        return Encoding.ASCII.GetString(buffer);
    }

    [Fact]
    public async Task A_blocked_domain_gets_the_block_page_with_rule_and_reference()
    {
        await using var fixture = await AgentFixture.StartAsync();
        await fixture.EnrollDeviceAsync();
        await using var agent = await StartDataPlaneAsync(fixture);

        var (code, output, error) = await AgentFixture.CurlAsync("-i", "-x", Proxy(agent), $"http://{AgentFixture.BlockedHost}/");

        Assert.True(code == 0, error);
        Assert.StartsWith("HTTP/1.1 403 Forbidden", output, StringComparison.Ordinal);
        Assert.Contains("Gatehouse-Rule: block-casino", output, StringComparison.Ordinal);
        Assert.Matches("Gatehouse-Reference: [0-9a-f]{6,}", output);
        Assert.Contains("<title>Blocked · Gatehouse</title>", output, StringComparison.Ordinal);
        Assert.Contains($"<code>http://{AgentFixture.BlockedHost}/</code>", output, StringComparison.Ordinal);
        Assert.Equal(1, agent.Status.FlowsRefused);
    }

    [Fact]
    public async Task Https_goes_through_connect_and_a_blocked_name_is_refused_there_too()
    {
        await using var fixture = await AgentFixture.StartAsync();
        await fixture.EnrollDeviceAsync();
        await using var agent = await StartDataPlaneAsync(fixture);

        var allowed = await AgentFixture.CurlAsync("-x", Proxy(agent), "--cacert", fixture.PortalCaFile, new Uri(fixture.Portal.BaseAddress, "/healthz").ToString());
        var blocked = await AgentFixture.CurlAsync("-x", Proxy(agent), $"https://{AgentFixture.BlockedHost}/");

        Assert.True(allowed.Code == 0, allowed.Error);
        Assert.Contains("\"status\"", allowed.Output, StringComparison.Ordinal);
        Assert.NotEqual(0, blocked.Code);
        Assert.Contains("403", blocked.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_no_edge_answering_a_fail_closed_device_refuses_traffic()
    {
        await using var fixture = await AgentFixture.StartAsync();
        await fixture.PostAppProfileAsync("closed");
        await fixture.EnrollDeviceAsync();
        await using var agent = await StartDataPlaneAsync(fixture);
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(agent.Status.FailMode == "closed"), "the fail-closed profile");

        await fixture.StopEdgeAsync();
        var (code, output, error) = await AgentFixture.CurlAsync("-i", "-x", Proxy(agent), "--proxy-insecure", new Uri(fixture.Portal.BaseAddress, "/healthz").ToString().Replace("https", "http", StringComparison.Ordinal));

        Assert.True(code == 0, error);
        Assert.True(output.StartsWith("HTTP/1.1 503", StringComparison.Ordinal), output);
        Assert.Contains("fails closed", output, StringComparison.Ordinal);
        Assert.Equal(AgentStates.EdgesUnreachable, agent.Status.State);

        // What heartbeats report as the tunnel's failures.
        Assert.Equal((0L, 1L), (agent.Status.TunnelsOpened, agent.Status.TunnelsFailed));
    }

    [Fact]
    public async Task With_no_edge_answering_a_fail_open_device_goes_direct()
    {
        await using var fixture = await AgentFixture.StartAsync();
        await fixture.PostAppProfileAsync("open");
        await fixture.EnrollDeviceAsync();
        await using var agent = await StartDataPlaneAsync(fixture);
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(agent.Status.FailMode == "open"), "the fail-open profile");

        await fixture.StopEdgeAsync();
        var (code, output, error) = await AgentFixture.CurlAsync("-x", Proxy(agent), "--cacert", fixture.PortalCaFile, new Uri(fixture.Portal.BaseAddress, "/healthz").ToString());

        Assert.True(code == 0, $"{error} {agent.Status}");
        Assert.Contains("\"status\"", output, StringComparison.Ordinal);
        Assert.Equal(AgentStates.EdgesUnreachable, agent.Status.State);
    }

    [PacFact]
    public async Task The_pac_file_sends_everything_but_local_names_to_the_local_proxy()
    {
        await using var fixture = await AgentFixture.StartAsync();
        await fixture.EnrollDeviceAsync();
        await using var agent = await StartDataPlaneAsync(fixture);

        var (code, output, error) = await AgentFixture.CurlAsync($"{Proxy(agent)}/proxy.pac");

        Assert.True(code == 0, error);
        var proxy = $"PROXY {agent.ProxyAddress}";
        var answers = await PacScript.FindProxyAsync(output, "http://www.example.com/", "http://10.1.2.3/", "http://192.168.1.1/", "http://intranet/", "http://127.0.0.1:8080/");
        Assert.Equal([proxy, proxy, proxy, "DIRECT", "DIRECT"], answers); // private addresses too: the tunnel carries private apps
    }
}
