using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Agent.DataPlane;
using Gatehouse.Wire.Agent;

namespace Gatehouse.Agent.Tests.Networks;

/// <summary>A hotel network: its portal answers every plain-HTTP request with a redirect to its sign-in page.</summary>
public sealed class CaptivePortalTests
{
    [Fact]
    public async Task Behind_a_captive_portal_a_fail_closed_agent_stands_aside_so_the_user_can_sign_in()
    {
        await using var fixture = await AgentFixture.StartAsync();
        using var hotel = new ScriptedHttpServer("HTTP/1.1 302 Found\r\nLocation: http://sign-in.hotel.test/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        await using var agent = await ConnectedFailClosedAsync(fixture, hotel);
        Assert.Equal(0, hotel.Requests);

        await fixture.StopEdgeAsync();
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(agent.Status.State == AgentStates.CaptivePortal), "the captive portal to be noticed");
        var signIn = await AgentFixture.CurlAsync("-x", $"http://{agent.ProxyAddress}", "--cacert", fixture.PortalCaFile, new Uri(fixture.Portal.BaseAddress, "/healthz").ToString());

        Assert.True(signIn.Code == 0, signIn.Error);
        Assert.Contains("sign in", agent.Status.Summary, StringComparison.Ordinal);
        Assert.True(hotel.Requests > 0);
    }

    [Fact]
    public async Task An_open_network_that_answers_204_is_no_captive_portal()
    {
        await using var fixture = await AgentFixture.StartAsync();
        using var open = new ScriptedHttpServer("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        await using var agent = await ConnectedFailClosedAsync(fixture, open);

        await fixture.StopEdgeAsync();
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(open.Requests >= 2), "two probes");

        Assert.Equal(AgentStates.EdgesUnreachable, agent.Status.State);
    }

    /// <summary>A fail-closed device connected to the edge, whose captive-portal probe goes to <paramref name="network"/>.</summary>
    private static async Task<DataPlaneHost> ConnectedFailClosedAsync(AgentFixture fixture, ScriptedHttpServer network)
    {
        await fixture.PostAppProfileAsync("closed");
        await fixture.EnrollDeviceAsync();
        var agent = fixture.StartDataPlane(o => o with { CaptivePortalProbe = $"http://{network.Address}/generate_204", CaptivePortalRecheckInterval = TimeSpan.FromMilliseconds(200) });
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(agent.Status is { State: AgentStates.Connected, FailMode: "closed" }), "the agent to connect", () => agent.Status);
        return agent;
    }

    /// <summary>Answers every request with the same bytes, and counts them.</summary>
    private sealed class ScriptedHttpServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly byte[] _answer;
        private int _requests;

        public ScriptedHttpServer(string answer)
        {
            _answer = Encoding.ASCII.GetBytes(answer);
            _listener.Start();
            _ = AcceptLoopAsync();
        }

        public string Address => ((IPEndPoint)_listener.LocalEndpoint).ToString();

        public int Requests => Volatile.Read(ref _requests);

        public void Dispose() => _listener.Stop();

        private async Task AcceptLoopAsync()
        {
            while (true)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync();
                }
                catch (Exception e) when (e is ObjectDisposedException or SocketException)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        var stream = client.GetStream();
                        var buffer = new byte[4096];
                        var head = new StringBuilder();
                        while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                        {
                            var read = await stream.ReadAsync(buffer);
                            if (read == 0)
                            {
                                return;
                            }

                            head.Append(Encoding.ASCII.GetString(buffer, 0, read));
                        }

                        Interlocked.Increment(ref _requests);
                        await stream.WriteAsync(_answer);
                    }
                });
            }
        }
    }
}
