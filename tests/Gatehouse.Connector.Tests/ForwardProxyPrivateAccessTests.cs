using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Testing;
using Gatehouse.Testing.Pac;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Logs;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Connector.Tests;

/// <summary>
/// Private apps asked for through the edge's agentless forward proxy: the access policy decides with the proxy
/// user's identity and a connector carries the flow, exactly as for the agent's tunnel. The edge could reach the
/// apps itself here (it resolves their names and its egress safety allows loopback), and still never dials them.
/// </summary>
public sealed class ForwardProxyPrivateAccessTests : IAsyncLifetime
{
    private const string WikiName = "wiki.corp.internal";

    private PrivateAccessFixture _f = null!;
    private HttpApp _wiki = null!;

    public async Task InitializeAsync()
    {
        _f = await PrivateAccessFixture.StartAsync(edgeReachesApp: true);
        _wiki = new HttpApp();
        _f.PrivateDns[WikiName] = [IPAddress.Loopback];
        await _f.PostAsync<AppSegmentDto>("app-segments", new AppSegmentRequest("corp-wiki", Domains: [WikiName], Ports: [_wiki.Port.ToString(CultureInfo.InvariantCulture)], ConnectorGroupIds: [_f.Group.Id]));
        await _f.PutAccessPolicyAsync(
            new PolicyRuleSpec { Name = "engineering-echo", Action = PolicyActions.Allow, Criteria = new PolicyCriteria { Groups = ["engineering"], AppSegments = ["corp-echo"] } },
            new PolicyRuleSpec { Name = "engineering-wiki", Action = PolicyActions.Allow, Criteria = new PolicyCriteria { Groups = ["engineering"], AppSegments = ["corp-wiki"] } });
        await PrivateAccessFixture.WaitForAsync(() => _f.Edge.Policy.Private.SegmentConnectorGroups.ContainsKey("corp-wiki") && _f.Edge.Policy.Private.Access.RuleCount == 2, "the edge to know the wiki and its rule");
    }

    public async Task DisposeAsync()
    {
        _wiki.Dispose();
        await _f.DisposeAsync();
    }

    [Fact]
    public async Task Connect_to_a_private_app_goes_through_the_connector_and_is_logged()
    {
        await _f.StartConnectorAsync();
        var engineer = await _f.ProxyCredentialAsync(_f.Engineer);

        using var client = await OpenAsync();
        var head = await SendAsync(client, $"CONNECT {PrivateAccessFixture.AppName}:{_f.Echo.Port} HTTP/1.1\r\nHost: {PrivateAccessFixture.AppName}:{_f.Echo.Port}\r\nProxy-Authorization: {engineer}\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200", head, StringComparison.Ordinal);
        Assert.Equal("ping", await PrivateAccessFixture.EchoAsync(client.GetStream(), "ping"));
        client.Client.Shutdown(SocketShutdown.Send);
        var record = await _f.Records.WaitForAsync(r => r.Listener == TransactionListeners.Proxy && r.Host == PrivateAccessFixture.AppName && r.Status == 200);
        Assert.Equal(TransactionActions.Allow, record.Action);
        Assert.Equal("engineering-echo", record.Rule);
        Assert.Equal(_f.Engineer.Email, record.UserEmail);
        Assert.Contains("app segment corp-echo through connector connector-1", record.Reason, StringComparison.Ordinal);
        Assert.Equal(4, record.BytesUp);
        Assert.Equal(4, record.BytesDown);
    }

    [Fact]
    public async Task Revoking_the_connector_of_a_connect_resets_the_client_so_the_cut_does_not_look_like_an_end()
    {
        var connector = await _f.StartConnectorAsync();
        var engineer = await _f.ProxyCredentialAsync(_f.Engineer);
        using var client = await OpenAsync();
        Assert.StartsWith("HTTP/1.1 200", await SendAsync(client, $"CONNECT {PrivateAccessFixture.AppName}:{_f.Echo.Port} HTTP/1.1\r\nProxy-Authorization: {engineer}\r\n\r\n"), StringComparison.Ordinal);
        Assert.Equal("ping", await PrivateAccessFixture.EchoAsync(client.GetStream(), "ping"));

        (await _f.Admin.PostAsync($"connectors/{connector.Identity.SubjectId}/revoke", null)).EnsureSuccessStatusCode();

        var end = await Assert.ThrowsAsync<IOException>(async () => await client.GetStream().ReadAsync(new byte[16]).AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(SocketError.ConnectionReset, Assert.IsType<SocketException>(end.InnerException).SocketErrorCode);
    }

    [Fact]
    public async Task Plain_http_to_a_private_app_is_decided_per_request_and_kept_alive_over_one_connector_flow()
    {
        await _f.StartConnectorAsync();
        var engineer = await _f.ProxyCredentialAsync(_f.Engineer);

        using var client = await OpenAsync();
        var request = $"GET http://{WikiName}:{_wiki.Port}/page HTTP/1.1\r\nHost: {WikiName}:{_wiki.Port}\r\nProxy-Authorization: {engineer}\r\n\r\n";
        var first = await SendAsync(client, request, HttpApp.Body);
        var second = await SendAsync(client, request, HttpApp.Body);

        Assert.StartsWith("HTTP/1.1 200", first, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200", second, StringComparison.Ordinal);
        Assert.Equal(2, _wiki.Requests);
        Assert.Equal(1, _wiki.Connections);
        var records = await WaitForRecordsAsync(r => r.Listener == TransactionListeners.Proxy && r.Host == WikiName, 2);
        Assert.All(records, r =>
        {
            Assert.Equal(TransactionKinds.Http, r.Kind);
            Assert.Equal("engineering-wiki", r.Rule);
            Assert.Equal($"http://{WikiName}:{_wiki.Port}/page", r.Url);
            Assert.Contains("app segment corp-wiki through connector connector-1", r.Reason, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Without_a_connector_the_proxy_refuses_a_private_app_and_never_dials_it_although_it_could()
    {
        var engineer = await _f.ProxyCredentialAsync(_f.Engineer);

        var (refused, page) = await AskBothAppsAsync(engineer);

        Assert.StartsWith("HTTP/1.1 503", refused, StringComparison.Ordinal);
        Assert.Contains("no connector serving app segment corp-echo is connected to this edge", refused, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 503", page, StringComparison.Ordinal);
        Assert.Contains("corp-wiki", page, StringComparison.Ordinal);
        Assert.Equal(0, _f.Echo.Accepted);
        Assert.Equal(0, _wiki.Connections);
    }

    [Fact]
    public async Task A_proxy_user_without_access_is_refused_with_the_reason_and_nothing_reaches_the_app()
    {
        await _f.StartConnectorAsync();
        var outsider = await _f.ProxyCredentialAsync(_f.Outsider);

        var (refused, page) = await AskBothAppsAsync(outsider);

        Assert.StartsWith("HTTP/1.1 403", refused, StringComparison.Ordinal);
        Assert.Contains($"no access rule allows {_f.Outsider.Email} to reach app segment corp-echo", refused, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 403", page, StringComparison.Ordinal);
        Assert.Contains("corp-wiki", page, StringComparison.Ordinal);
        var record = await _f.Records.WaitForAsync(r => r.Listener == TransactionListeners.Proxy && r.Host == PrivateAccessFixture.AppName);
        Assert.Equal(TransactionActions.Block, record.Action);
        Assert.Equal(403, record.Status);
        Assert.Equal(0, _f.Echo.Served);
        Assert.Equal(0, _wiki.Connections);
    }

    [PacFact]
    public async Task The_pac_file_sends_addresses_in_an_app_segment_to_the_proxy_once_the_edge_has_the_segment()
    {
        using var http = new HttpClient();
        var pacUri = new Uri($"http://{_f.Edge.ProxyAddress}/proxy.pac");
        string[] urls = ["http://10.77.3.4/", "http://10.77.3.4:8080/", "http://10.78.0.1/", $"http://{WikiName}/"];
        var proxy = $"PROXY {_f.Edge.ProxyAddress}";
        Assert.Equal(["DIRECT", "DIRECT", "DIRECT", proxy], await PacScript.FindProxyAsync(await http.GetStringAsync(pacUri), urls));

        await _f.PostAsync<AppSegmentDto>("app-segments", new AppSegmentRequest("corp-reports", Cidrs: ["10.77.0.0/16"], Ports: ["80"], ConnectorGroupIds: [_f.Group.Id]));
        await PrivateAccessFixture.WaitForAsync(() => _f.Edge.Policy.Private.SegmentConnectorGroups.ContainsKey("corp-reports"), "the edge to know the reports segment");

        Assert.Equal([proxy, "DIRECT", "DIRECT", proxy], await PacScript.FindProxyAsync(await http.GetStringAsync(pacUri), urls));
    }

    /// <summary>CONNECTs to the echo app and GETs the wiki, each on a new connection; both answers are refusals that end the connection.</summary>
    private async Task<(string Connect, string Get)> AskBothAppsAsync(string proxyAuthorization)
    {
        using var connect = await OpenAsync();
        var refused = await SendAsync(connect, $"CONNECT {PrivateAccessFixture.AppName}:{_f.Echo.Port} HTTP/1.1\r\nHost: x\r\nProxy-Authorization: {proxyAuthorization}\r\n\r\n", "reference:");
        using var get = await OpenAsync();
        var page = await SendAsync(get, $"GET http://{WikiName}:{_wiki.Port}/ HTTP/1.1\r\nHost: {WikiName}\r\nProxy-Authorization: {proxyAuthorization}\r\n\r\n", "</html>");
        return (refused, page);
    }

    private async Task<TcpClient> OpenAsync()
    {
        var client = new TcpClient();
        await client.ConnectAsync(_f.Edge.ProxyAddress!);
        return client;
    }

    /// <summary>Sends <paramref name="request"/> and reads the answer up to the end of its head, or up to <paramref name="until"/>.</summary>
    private static async Task<string> SendAsync(TcpClient client, string request, string until = "\r\n\r\n")
    {
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var received = new StringBuilder();
        var one = new byte[1];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!received.ToString().Contains(until, StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, timeout.Token) == 0)
            {
                break;
            }

            received.Append((char)one[0]);
        }

        return received.ToString();
    }

    private async Task<IReadOnlyList<TransactionLogRecord>> WaitForRecordsAsync(Func<TransactionLogRecord, bool> match, int count)
    {
        await PrivateAccessFixture.WaitForAsync(() => _f.Records.All.Count(match) >= count, $"{count} records");
        return [.. _f.Records.All.Where(match)];
    }

    /// <summary>A private HTTP/1.1 app on loopback that answers every request with <see cref="Body"/>, kept alive.</summary>
    private sealed class HttpApp : IDisposable
    {
        public const string Body = "hello from the wiki";

        private readonly LoopbackTcpServer _server;
        private int _connections;
        private int _requests;

        public HttpApp() => _server = new LoopbackTcpServer(ServeAsync);

        public int Port => _server.Port;

        /// <summary>Connections that sent a request (a health check's connect alone is not one).</summary>
        public int Connections => Volatile.Read(ref _connections);

        public int Requests => Volatile.Read(ref _requests);

        public void Dispose() => _server.Dispose();

        private async Task ServeAsync(Socket socket, CancellationToken ct)
        {
            var head = new StringBuilder();
            var buffer = new byte[4096];
            var counted = false;
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, ct);
                if (n == 0)
                {
                    return;
                }

                if (!counted)
                {
                    counted = true;
                    Interlocked.Increment(ref _connections);
                }

                head.Append(Encoding.ASCII.GetString(buffer, 0, n));
                while (head.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal) is var end and >= 0)
                {
                    head.Remove(0, end + 4);
                    Interlocked.Increment(ref _requests);
                    await socket.SendAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {Body.Length}\r\n\r\n{Body}"), ct);
                }
            }
        }
    }
}
