using System.IO.Pipelines;
using System.Text;
using Gatehouse.Edge.Private;
using Gatehouse.Flows;
using Gatehouse.Testing;
using Gatehouse.Wire.Tunnel;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Edge.Tests.Private;

/// <summary>
/// The tickets of relayed private flows: random, single use, short-lived. (Pairing real connections, replays and
/// stolen tickets are tested end to end in the connector's RelayedFlowTests.)
/// </summary>
public sealed class RelayRendezvousTests : IAsyncDisposable
{
    private readonly FlowRegistry _flows = new(TimeSpan.FromMinutes(1));

    [Fact]
    public async Task A_ticket_no_end_comes_for_expires_and_is_forgotten()
    {
        var rendezvous = new RelayRendezvous(TimeSpan.FromSeconds(1), NullLogger.Instance, ticketLifetime: TimeSpan.FromMilliseconds(200));
        using var flow = _flows.Open();

        var relay = rendezvous.Issue(flow);
        Assert.Equal(1, rendezvous.Pending);
        var outcome = await relay.Outcome.DefaultTimeout();

        Assert.False(outcome.Paired);
        Assert.Equal("the other end did not come with the ticket in time", outcome.Reason);
        Assert.Equal(0, rendezvous.Pending);
    }

    [Fact]
    public async Task A_cancelled_ticket_ends_at_once_and_a_later_expiry_changes_nothing()
    {
        var rendezvous = new RelayRendezvous(TimeSpan.FromSeconds(1), NullLogger.Instance, ticketLifetime: TimeSpan.FromMilliseconds(100));
        using var flow = _flows.Open();
        var relay = rendezvous.Issue(flow);

        relay.Cancel("the connector did not take the relay");
        var outcome = await relay.Outcome.DefaultTimeout();
        await Task.Delay(300);

        Assert.Equal("the connector did not take the relay", outcome.Reason);
        Assert.Equal("the connector did not take the relay", (await relay.Outcome).Reason);
        Assert.Equal(0, rendezvous.Pending);
    }

    [Fact]
    public void Tickets_are_random_and_travel_as_base64url()
    {
        var rendezvous = new RelayRendezvous(TimeSpan.FromSeconds(1), NullLogger.Instance);
        using var one = _flows.Open();
        using var two = _flows.Open();

        var first = rendezvous.Issue(one);
        var second = rendezvous.Issue(two);

        Assert.NotEqual(first.Key, second.Key);
        Assert.True(RelayProtocol.TryDecodeTicket(first.Key, out var decoded));
        Assert.Equal(first.Ticket, decoded);
        Assert.Equal(RelayProtocol.TicketLength, decoded.Length);
        first.Cancel("done");
        second.Cancel("done");
    }

    [Theory]
    [InlineData("")]
    [InlineData("not base64!")]
    [InlineData("AAAA")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void A_ticket_header_that_is_not_32_bytes_of_base64url_is_no_ticket(string text) =>
        Assert.False(RelayProtocol.TryDecodeTicket(text, out _));

    [Fact]
    public void A_preamble_reads_back_and_anything_else_is_refused()
    {
        var ticket = RelayProtocol.NewTicket();
        var preamble = RelayProtocol.Preamble(RelaySide.Connector, ticket);

        Assert.Equal(RelayProtocol.PreambleLength, preamble.Length);
        Assert.Equal(RelayProtocol.FirstByte, preamble[0]);
        Assert.True(RelayProtocol.TryParsePreamble(preamble, out var side, out var read));
        Assert.Equal(RelaySide.Connector, side);
        Assert.Equal(ticket, read);

        var wrongSide = (byte[])preamble.Clone();
        wrongSide[4] = 3;
        var wrongMagic = (byte[])preamble.Clone();
        wrongMagic[3] = (byte)'2';
        Assert.False(RelayProtocol.TryParsePreamble(wrongSide, out _, out _));
        Assert.False(RelayProtocol.TryParsePreamble(wrongMagic, out _, out _));
        Assert.False(RelayProtocol.TryParsePreamble(preamble.AsSpan(0, 36), out _, out _));

        // A TLS connection starts with a handshake record: never taken for a preamble.
        Assert.NotEqual(22, RelayProtocol.FirstByte);
    }

    [Fact]
    public async Task A_plain_http_request_at_the_tunnel_port_is_counted_and_logged_at_debug_and_a_bad_ticket_at_warning()
    {
        // Plain HTTP starts with the preamble's first byte ('G' of GET): scanners send it to any open port, and a warning
        // for each would let anyone who can reach the port fill the edge's log.
        var logger = new ListLogger<RelayRendezvous>();
        var rendezvous = new RelayRendezvous(TimeSpan.FromSeconds(1), logger);

        await ServeAsync(rendezvous, Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: edge\r\n\r\n"));
        await ServeAsync(rendezvous, RelayProtocol.Preamble(RelaySide.Device, RelayProtocol.NewTicket()));

        Assert.Equal(2, rendezvous.Refused);
        Assert.Collection(
            logger.Entries,
            scanner => Assert.Equal((1504, LogLevel.Debug), (scanner.EventId, scanner.Level)),
            forged => Assert.Equal((1503, LogLevel.Warning), (forged.EventId, forged.Level)));
    }

    /// <summary>Runs the rendezvous' connection middleware over a connection whose client sent <paramref name="sent"/> and closed.</summary>
    private static async Task ServeAsync(RelayRendezvous rendezvous, byte[] sent)
    {
        var fromClient = new Pipe();
        var toClient = new Pipe();
        await fromClient.Writer.WriteAsync(sent);
        await fromClient.Writer.CompleteAsync();
        var connection = new DefaultConnectionContext("test", new DuplexPipe(fromClient.Reader, toClient.Writer), new DuplexPipe(toClient.Reader, fromClient.Writer));
        var passedOn = false;
        await rendezvous.ServeAsync(_ => { passedOn = true; return Task.CompletedTask; }, connection).DefaultTimeout();
        Assert.False(passedOn);
    }

    private sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    public ValueTask DisposeAsync() => _flows.DisposeAsync();
}
