using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using Gatehouse.Flows;
using Gatehouse.Wire.Tunnel;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Edge.Private;

/// <summary>How a relayed flow ended, for its record.</summary>
/// <param name="Paired">Whether both ends came with the ticket.</param>
/// <param name="Up">Bytes from the device to the connector (TLS records, handshake included).</param>
/// <param name="Down">Bytes from the connector to the device.</param>
/// <param name="Reason">Why it ended unpaired.</param>
internal readonly record struct RelayOutcome(bool Paired, long Up, long Down, string? Reason);

/// <summary>
/// Where the two ends of a relayed private flow meet (<see cref="RelayProtocol"/>). The tunnel handler issues a
/// ticket once the access policy allowed the flow and before it asks a connector; the device and the connector
/// then each dial the tunnel port with it. A ticket pairs one device connection with one connector connection,
/// once, within <see cref="TicketLifetime"/>; anything else (an unknown, used or expired ticket, a second
/// connection for a side) is closed. Once paired, the edge copies bytes both ways without reading them.
/// </summary>
internal sealed class RelayRendezvous
{
    /// <summary>How long a ticket waits for both ends.</summary>
    public static readonly TimeSpan DefaultTicketLifetime = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, PendingRelay> _pending = new(StringComparer.Ordinal);
    private readonly TimeSpan _preambleTimeout;
    private readonly ILogger _logger;
    private long _refused;
    private long _paired;

    public RelayRendezvous(TimeSpan preambleTimeout, ILogger logger, TimeSpan? ticketLifetime = null)
    {
        _preambleTimeout = preambleTimeout;
        _logger = logger;
        TicketLifetime = ticketLifetime ?? DefaultTicketLifetime;
    }

    /// <summary>How long a ticket waits for both ends.</summary>
    public TimeSpan TicketLifetime { get; }

    /// <summary>Tickets issued and not yet paired or expired.</summary>
    public int Pending => _pending.Count;

    /// <summary>Relay connections closed for a bad preamble or ticket.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Tickets whose two ends met.</summary>
    public long Paired => Interlocked.Read(ref _paired);

    /// <summary>A ticket for one flow, whose bytes <paramref name="flow"/> counts and whose cancellation ends it.</summary>
    public PendingRelay Issue(OpenFlow flow)
    {
        var relay = new PendingRelay(RelayProtocol.NewTicket(), flow, this);
        _pending[relay.Key] = relay;
        relay.ExpireAfter(TicketLifetime);
        return relay;
    }

    internal void Forget(PendingRelay relay, bool paired)
    {
        _pending.TryRemove(new KeyValuePair<string, PendingRelay>(relay.Key, relay));
        if (paired)
        {
            Interlocked.Increment(ref _paired);
        }
    }

    /// <summary>
    /// Connection middleware first on the tunnel listener: a connection that starts with a relay preamble is held
    /// here until its flow ends; any other (TLS) goes on untouched.
    /// </summary>
    public async Task ServeAsync(ConnectionDelegate next, ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        timeout.CancelAfter(_preambleTimeout);
        ReadResult read;
        try
        {
            read = await input.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Nothing sent in time: neither a relay end nor a TLS client.
            return;
        }

        if (read.Buffer.IsEmpty || read.Buffer.FirstSpan[0] != RelayProtocol.FirstByte)
        {
            // Not consumed and not examined: TLS reads these bytes again at once.
            input.AdvanceTo(read.Buffer.Start);
            await next(connection);
            return;
        }

        var remote = connection.RemoteEndPoint?.ToString() ?? "unknown";
        var preamble = await ReadPreambleAsync(input, read, timeout.Token);
        if (preamble is null || !RelayProtocol.TryParsePreamble(preamble, out var side, out var ticket))
        {
            // The preamble's first byte is a 'G': every plain-HTTP GET a scanner sends to the port comes this way. Counted,
            // and logged at debug like a failed TLS handshake, so that nobody who can reach the port can fill the log.
            Interlocked.Increment(ref _refused);
            PrivateLog.NoRelayPreamble(_logger, remote);
            return;
        }

        if (!_pending.TryGetValue(RelayProtocol.EncodeTicket(ticket), out var relay) || !relay.Arrive(side, connection))
        {
            Interlocked.Increment(ref _refused);
            PrivateLog.RelayRefused(_logger, remote, $"an unknown, used or expired ticket for the {side.ToString().ToLowerInvariant()} side");
            return;
        }

        await relay.Outcome;
    }

    private static async Task<byte[]?> ReadPreambleAsync(PipeReader input, ReadResult read, CancellationToken ct)
    {
        try
        {
            while (read.Buffer.Length < RelayProtocol.PreambleLength && !read.IsCompleted)
            {
                input.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                read = await input.ReadAsync(ct);
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }

        if (read.Buffer.Length < RelayProtocol.PreambleLength)
        {
            input.AdvanceTo(read.Buffer.End);
            return null;
        }

        var preamble = read.Buffer.Slice(0, RelayProtocol.PreambleLength).ToArray();

        // What follows (the device's ClientHello, say) stays in the pipe and is copied on.
        input.AdvanceTo(read.Buffer.GetPosition(RelayProtocol.PreambleLength));
        return preamble;
    }
}

/// <summary>One issued ticket: waits for its two ends, then copies between them until the flow ends.</summary>
internal sealed class PendingRelay
{
    private readonly Lock _gate = new();
    private readonly OpenFlow _flow;
    private readonly RelayRendezvous _owner;
    private readonly TaskCompletionSource<RelayOutcome> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ConnectionContext? _device;
    private ConnectionContext? _connector;
    private bool _closed;

    internal PendingRelay(byte[] ticket, OpenFlow flow, RelayRendezvous owner)
    {
        Ticket = ticket;
        Key = RelayProtocol.EncodeTicket(ticket);
        _flow = flow;
        _owner = owner;
    }

    /// <summary>The flow: counts the bytes, and its cancellation (idle, drain, revocation) cuts both ends.</summary>
    public OpenFlow Flow => _flow;

    /// <summary>The ticket's bytes.</summary>
    public byte[] Ticket { get; }

    /// <summary>The ticket as a header carries it.</summary>
    public string Key { get; }

    /// <summary>How the flow ended; completes once both connections are done with (and may close), or the ticket expired or was cancelled.</summary>
    public Task<RelayOutcome> Outcome => _outcome.Task;

    /// <summary>Ends an unpaired ticket (the connector did not take it); a paired flow is not touched.</summary>
    public void Cancel(string why) => EndUnpaired(why);

    internal void ExpireAfter(TimeSpan lifetime) =>
        _ = Task.Delay(lifetime).ContinueWith(_ => EndUnpaired("the other end did not come with the ticket in time"), TaskScheduler.Default);

    /// <summary>Takes <paramref name="connection"/> as the <paramref name="side"/> end; false when that end already came or the ticket is over.</summary>
    internal bool Arrive(RelaySide side, ConnectionContext connection)
    {
        lock (_gate)
        {
            if (_closed || (side == RelaySide.Device ? _device : _connector) is not null)
            {
                return false;
            }

            if (side == RelaySide.Device)
            {
                _device = connection;
            }
            else
            {
                _connector = connection;
            }

            if (_device is null || _connector is null)
            {
                return true;
            }

            // Paired: the ticket is spent.
            _closed = true;
        }

        _owner.Forget(this, paired: true);
        _ = CopyAsync(_device, _connector);
        return true;
    }

    private void EndUnpaired(string why)
    {
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
        }

        _owner.Forget(this, paired: false);
        _outcome.TrySetResult(new RelayOutcome(false, 0, 0, why));
    }

    private async Task CopyAsync(ConnectionContext device, ConnectionContext connector)
    {
        // A cut flow (idle, drained, the device or connector revoked) wakes both directions through their token.
        var up = CopyAsync(device.Transport.Input, connector.Transport.Output, RelaySide.Device);
        var down = CopyAsync(connector.Transport.Input, device.Transport.Output, RelaySide.Connector);
        await Task.WhenAll(up, down);
        _outcome.TrySetResult(new RelayOutcome(true, _flow.BytesUp, _flow.BytesDown, null));
    }

    /// <summary>
    /// Copies what <paramref name="sender"/> sends to the other end. Kestrel has no half-close: the end of one side's
    /// sending ends the other side's connection once what came before is sent, which is how the relayed TLS session
    /// ends anyway (each end closes TCP only after its close_notify both ways). A reset or failure of either
    /// connection breaks the flow instead, and a broken or cut flow (idle, drained, revoked) resets both: the
    /// end-to-end TLS session reads a FIN without close_notify as a clean end, so a download cut at the connector
    /// would reach the device looking complete.
    /// </summary>
    private async Task CopyAsync(PipeReader from, PipeWriter to, RelaySide sender)
    {
        var ct = _flow.Cancellation;
        var waitingOn = sender;
        try
        {
            while (true)
            {
                waitingOn = sender;
                var read = await from.ReadAsync(ct);
                var buffer = read.Buffer;
                var length = buffer.Length;
                foreach (var segment in buffer)
                {
                    to.Write(segment.Span);
                }

                // The buffer's segments go back to the pool here: nothing of it is read after.
                from.AdvanceTo(buffer.End);
                if (length > 0)
                {
                    _flow.Touch();
                    _flow.Count(up: sender == RelaySide.Device, length);
                    waitingOn = Other(sender);
                    var flushed = await to.FlushAsync(ct);
                    if (flushed.IsCompleted)
                    {
                        break;
                    }
                }

                if (read.IsCompleted || read.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (Relay.IsEndOfFlow(e))
        {
            if (HowBroken(e, waitingOn) is { } broken)
            {
                _flow.Break(broken);
            }
        }
        finally
        {
            // Before the pipes complete: completing the other end's output would send it a FIN.
            if (_flow.WasCut)
            {
                Reset(_device!);
                Reset(_connector!);
            }

            await to.CompleteAsync();
            await from.CompleteAsync();
        }
    }

    /// <summary>
    /// How <paramref name="waitingOn"/>'s connection broke the flow with <paramref name="e"/>; null when it did not:
    /// the flow was cut (which resets both ends already), or the edge closed that connection itself because the
    /// other direction ended.
    /// </summary>
    private static string? HowBroken(Exception e, RelaySide waitingOn)
    {
        if (e is OperationCanceledException or ConnectionAbortedException)
        {
            return null;
        }

        return Relay.BrokenBy(e, waitingOn == RelaySide.Device ? "device" : "connector");
    }

    private static RelaySide Other(RelaySide side) => side == RelaySide.Device ? RelaySide.Connector : RelaySide.Device;

    /// <summary>Ends <paramref name="connection"/> with a TCP reset: a FIN would tell that end's TLS session the flow ended rather than broke.</summary>
    private static void Reset(ConnectionContext connection) => ConnectionResets.Reset(connection, "the relayed flow was cut");
}
