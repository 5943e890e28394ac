using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Gatehouse.Agent.Names;
using Gatehouse.Testing;
using Gatehouse.Wire.Dns;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Agent.Tests.Names;

/// <summary>The local resolver on loopback, without the nftables redirect (no root needed): what it answers, and that garbage does not hurt it.</summary>
public sealed class LocalResolverTests : IAsyncLifetime
{
    private readonly string _resolvConf = Path.GetTempFileName();
    private LocalResolver _resolver = null!;

    public Task InitializeAsync()
    {
        // Only a loopback name server: the resolver never forwards to loopback, so other names fail (SERVFAIL).
        File.WriteAllText(_resolvConf, "nameserver 127.0.0.53\n");
        var space = new SyntheticAddressSpace(() => [], 4096, new State.AgentState(Guid.NewGuid(), Guid.NewGuid(), "https://portal.test/"), NullLogger.Instance);
        _resolver = LocalResolver.Start(new IPEndPoint(IPAddress.Loopback, 0), space, _resolvConf, mark: null, NullLogger.Instance);
        _resolver.Use(new PrivateAppNames(["*.corp.test"]));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _resolver.DisposeAsync();
        File.Delete(_resolvConf);
    }

    [Fact]
    public async Task Private_names_get_a_synthetic_address_over_udp_and_tcp_and_others_fail_without_a_server()
    {
        var udp = DnsMessage.ReadAnswer(await AskUdpAsync(DnsMessage.Query(1, "wiki.corp.test", DnsTypes.A)));
        var tcp = DnsMessage.ReadAnswer(await AskTcpAsync(DnsMessage.Query(2, "WIKI.corp.test", DnsTypes.A)));
        var other = DnsMessage.ReadAnswer(await AskUdpAsync(DnsMessage.Query(3, "www.example.test", DnsTypes.A)));

        Assert.Equal(DnsResponseCodes.NoError, udp.ResponseCode);
        Assert.StartsWith("100.64.", Assert.Single(udp.Addresses).ToString(), StringComparison.Ordinal);
        Assert.Equal(udp.Addresses, tcp.Addresses);
        Assert.Equal(DnsResponseCodes.ServerFailure, other.ResponseCode);
    }

    [Fact]
    [Trait(Fuzzing.Trait, Fuzzing.Category)]
    public async Task Random_datagrams_and_broken_tcp_messages_do_not_stop_it_answering()
    {
        var random = new Random(Fuzzing.Seed(20261204));
        using (var garbage = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            for (var i = 0; i < Fuzzing.Inputs(2_000); i++)
            {
                var datagram = new byte[random.Next(0, 600)];
                random.NextBytes(datagram);
                await garbage.SendToAsync(datagram, SocketFlags.None, _resolver.Address);
            }
        }

        foreach (var bytes in new[] { new byte[] { 0x00 }, [0xFF, 0xFF, 1, 2, 3], [0x00, 0x03, 1, 2, 3], [] })
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(_resolver.Address);
            var stream = tcp.GetStream();
            await stream.WriteAsync(bytes);
            tcp.Client.Shutdown(SocketShutdown.Send);
            try
            {
                _ = await stream.ReadAsync(new byte[512]).AsTask().DefaultTimeout(); // an answer (FORMERR) or the close
            }
            catch (IOException)
            {
                // Closed with a reset: as good as a close.
            }
        }

        var answer = DnsMessage.ReadAnswer(await AskUdpAsync(DnsMessage.Query(9, "git.corp.test", DnsTypes.A)));
        Assert.Equal(DnsResponseCodes.NoError, answer.ResponseCode);
        Assert.Single(answer.Addresses);
    }

    [Fact]
    public async Task Port_zero_gets_one_port_for_udp_and_tcp_even_when_many_ports_are_taken_for_one_of_them()
    {
        // A thousand ports taken for TCP only and a thousand for UDP only, from the range port 0 picks from. A
        // start that took a free UDP port and assumed it free for TCP failed this in 3 runs of 3 (and a full
        // test run once, with far fewer ports in use).
        var taken = new List<Socket>();
        try
        {
            for (var i = 0; i < 1_000; i++)
            {
                var listener = BoundSocket(SocketType.Stream, ProtocolType.Tcp);
                taken.Add(listener);
                listener.Listen(1); // only a listener keeps its port from .NET's sockets, which bind with SO_REUSEADDR
                taken.Add(BoundSocket(SocketType.Dgram, ProtocolType.Udp));
            }

            var space = new SyntheticAddressSpace(() => [], 16, new State.AgentState(Guid.NewGuid(), Guid.NewGuid(), "https://portal.test/"), NullLogger.Instance);
            for (var i = 0; i < 300; i++)
            {
                await using var resolver = LocalResolver.Start(new IPEndPoint(IPAddress.Loopback, 0), space, _resolvConf, mark: null, NullLogger.Instance);
                if (i % 50 == 0)
                {
                    using var tcp = new TcpClient();
                    await tcp.ConnectAsync(resolver.Address).DefaultTimeout(); // TCP listens on the port UDP reports
                }
            }
        }
        finally
        {
            taken.ForEach(socket => socket.Dispose());
        }

        static Socket BoundSocket(SocketType type, ProtocolType protocol)
        {
            var socket = new Socket(AddressFamily.InterNetwork, type, protocol);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            return socket;
        }
    }

    private async Task<byte[]> AskUdpAsync(byte[] query)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        await socket.ConnectAsync(_resolver.Address);
        await socket.SendAsync(query);
        var buffer = new byte[4096];
        var length = await socket.ReceiveAsync(buffer, SocketFlags.None).DefaultTimeout();
        return buffer[..length];
    }

    private async Task<byte[]> AskTcpAsync(byte[] query)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(_resolver.Address);
        var stream = tcp.GetStream();
        var framed = new byte[2 + query.Length];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
        query.CopyTo(framed, 2);
        await stream.WriteAsync(framed);
        var prefix = new byte[2];
        await stream.ReadExactlyAsync(prefix).AsTask().DefaultTimeout();
        var answer = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
        await stream.ReadExactlyAsync(answer).AsTask().DefaultTimeout();
        return answer;
    }
}
