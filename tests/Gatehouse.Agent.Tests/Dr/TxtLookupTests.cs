using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Gatehouse.Agent.Dr;
using Gatehouse.Testing;
using Gatehouse.Trust.Dr;
using Gatehouse.Wire.Dr;

namespace Gatehouse.Agent.Tests.Dr;

/// <summary>
/// <see cref="TxtLookup"/> against a real dnsmasq on loopback: a signed DR record comes back byte
/// for byte, over UDP and, when the answer is too big for it, over TCP.
/// </summary>
public sealed class TxtLookupTests
{
    private const string Name = "_gatehouse-dr.example.test";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    [DnsmasqFact]
    public async Task A_signed_record_comes_back_exactly()
    {
        var text = SignedRecord(version: 1);
        Assert.InRange(text.Length, 200, 255);
        using var dns = await DnsmasqServer.StartAsync([(Name, text)]).DefaultTimeout();

        var records = await TxtLookup.QueryAsync(Name, [dns.Address], Timeout, CancellationToken.None).DefaultTimeout();

        Assert.Equal([text], records);
    }

    [DnsmasqFact]
    public async Task A_name_without_a_record_has_none()
    {
        using var dns = await DnsmasqServer.StartAsync([(Name, SignedRecord(1))]).DefaultTimeout();

        var records = await TxtLookup.QueryAsync("_gatehouse-dr.other.test", [dns.Address], Timeout, CancellationToken.None).DefaultTimeout();

        Assert.Empty(records);
    }

    [DnsmasqFact]
    public async Task Two_records_on_one_name_both_come_back()
    {
        var first = SignedRecord(1);
        var second = SignedRecord(2);
        using var dns = await DnsmasqServer.StartAsync([(Name, first), (Name, second)]).DefaultTimeout();

        var records = await TxtLookup.QueryAsync(Name, [dns.Address], Timeout, CancellationToken.None).DefaultTimeout();

        Assert.Equal(new[] { first, second }.Order(StringComparer.Ordinal), records.Order(StringComparer.Ordinal));
    }

    [DnsmasqFact]
    public async Task Records_too_big_for_one_UDP_answer_come_over_TCP()
    {
        // Three records of about 240 bytes pass the 512 bytes of a UDP answer: dnsmasq truncates it.
        string[] texts = [SignedRecord(1), SignedRecord(2), SignedRecord(3)];
        using var dns = await DnsmasqServer.StartAsync(texts.Select(t => (Name, t))).DefaultTimeout();

        var records = await TxtLookup.QueryAsync(Name, [dns.Address], Timeout, CancellationToken.None).DefaultTimeout();

        Assert.Equal(texts.Order(StringComparer.Ordinal), records.Order(StringComparer.Ordinal));
    }

    [DnsmasqFact]
    public async Task Replaced_records_are_served_on_the_same_address()
    {
        var first = SignedRecord(1);
        var second = SignedRecord(2);
        using var dns = await DnsmasqServer.StartAsync([(Name, first)]).DefaultTimeout();
        var address = dns.Address;

        await dns.ReplaceRecordsAsync([(Name, second)]).DefaultTimeout();

        Assert.Equal(address, dns.Address);
        Assert.Equal([second], await TxtLookup.QueryAsync(Name, [dns.Address], Timeout, CancellationToken.None).DefaultTimeout());
    }

    [DnsmasqFact]
    public async Task The_first_server_that_answers_is_used()
    {
        var text = SignedRecord(1);
        using var dns = await DnsmasqServer.StartAsync([(Name, text)]).DefaultTimeout();
        var unused = new IPEndPoint(IPAddress.Loopback, FreeUdpPort());

        var records = await TxtLookup.QueryAsync(Name, [unused, dns.Address], Timeout, CancellationToken.None).DefaultTimeout();

        Assert.Equal([text], records);
    }

    [Fact]
    public async Task A_port_where_nothing_listens_is_an_IOException()
    {
        var unused = new IPEndPoint(IPAddress.Loopback, FreeUdpPort());
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<IOException>(() => TxtLookup.QueryAsync(Name, [unused], Timeout, CancellationToken.None)).DefaultTimeout();

        Assert.True(clock.Elapsed < Timeout + TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
        Assert.Contains(unused.ToString(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_never_answers_is_an_IOException_after_the_timeout()
    {
        // Bound, so no port-unreachable comes back: the query is read and never answered.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var timeout = TimeSpan.FromMilliseconds(500);
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<IOException>(() => TxtLookup.QueryAsync(Name, [(IPEndPoint)silent.LocalEndPoint!], timeout, CancellationToken.None)).DefaultTimeout();

        Assert.InRange(clock.Elapsed, timeout - TimeSpan.FromMilliseconds(50), timeout + TimeSpan.FromSeconds(2));
        Assert.Contains("no answer within", error.Message, StringComparison.Ordinal);
    }

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static string SignedRecord(long version)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var issued = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        return DrRecordSigning.Sign(new DrRecord(Guid.NewGuid(), version, DrStates.On, DrModes.Closed, issued, issued.AddDays(1)), key);
    }
}
