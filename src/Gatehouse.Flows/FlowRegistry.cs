using System.Collections.Concurrent;

namespace Gatehouse.Flows;

/// <summary>
/// The flows open on this edge: ends the ones idle longer than the idle timeout, and on shutdown waits
/// for the open ones to finish (drain) before cutting what is left.
/// </summary>
public sealed class FlowRegistry : IAsyncDisposable
{
    private readonly ConcurrentDictionary<OpenFlow, byte> _open = new();
    private readonly TimeSpan _idleTimeout;
    private readonly ITimer _sweeper;
    private long _idleClosed;

    /// <summary>Creates the registry and starts sweeping idle flows.</summary>
    /// <param name="idleTimeout">How long a flow may carry nothing before it is ended.</param>
    /// <param name="time">The clock that drives the sweep.</param>
    public FlowRegistry(TimeSpan idleTimeout, TimeProvider? time = null)
    {
        _idleTimeout = idleTimeout;
        var period = TimeSpan.FromTicks(Math.Clamp(idleTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond * 15));
        _sweeper = (time ?? TimeProvider.System).CreateTimer(_ => Sweep(), null, period, period);
    }

    /// <summary>How many flows are open.</summary>
    public int Count => _open.Count;

    /// <summary>How many flows were ended for being idle.</summary>
    public long IdleClosed => Interlocked.Read(ref _idleClosed);

    /// <summary>Registers a new flow; dispose it when the flow ends.</summary>
    /// <param name="ct">
    /// The client's end (its connection closing, its stream reset): ends the flow too, and a relay records it as the
    /// client going away (<see cref="OpenFlow.BrokenBecause"/>).
    /// </param>
    public OpenFlow Open(CancellationToken ct = default)
    {
        var flow = new OpenFlow(this, ct);
        _open.TryAdd(flow, 0);
        return flow;
    }

    internal void Remove(OpenFlow flow) => _open.TryRemove(flow, out _);

    private void Sweep()
    {
        var now = Environment.TickCount64;
        var idleMs = (long)_idleTimeout.TotalMilliseconds;
        foreach (var flow in _open.Keys)
        {
            // An aborted flow stays registered until its relay ends: later sweeps must not count it again.
            if (now - flow.LastActivity > idleMs && flow.TryAbort($"it carried nothing for {_idleTimeout.TotalSeconds:0.#} s"))
            {
                Interlocked.Increment(ref _idleClosed);
            }
        }
    }

    /// <summary>
    /// Ends every open flow whose opener <paramref name="noLongerAdmitted"/> says has lost its access: a revoked device
    /// (<see cref="OpenFlow.Subject"/>), proxy credentials that no longer authenticate (<see cref="OpenFlow.Credential"/>).
    /// </summary>
    /// <param name="noLongerAdmitted">Why a flow's opener lost its access, or null when it has not.</param>
    /// <returns>How many flows were ended.</returns>
    public int AbortWhere(Func<OpenFlow, string?> noLongerAdmitted)
    {
        ArgumentNullException.ThrowIfNull(noLongerAdmitted);
        var cut = 0;
        foreach (var flow in _open.Keys)
        {
            if (noLongerAdmitted(flow) is { } because)
            {
                cut++;
                flow.Abort(because);
            }
        }

        return cut;
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the open flows to end by themselves, then ends the rest.</summary>
    /// <param name="timeout">How long to wait.</param>
    /// <returns>How many flows had to be cut.</returns>
    public async Task<int> DrainAsync(TimeSpan timeout)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!_open.IsEmpty && Environment.TickCount64 < deadline)
        {
            await Task.Delay(50);
        }

        var cut = 0;
        foreach (var flow in _open.Keys)
        {
            cut++;
            flow.Abort("the edge stopped");
        }

        return cut;
    }

    /// <summary>Stops sweeping.</summary>
    public ValueTask DisposeAsync() => _sweeper.DisposeAsync();
}

/// <summary>One open flow: its cancellation, its activity and the bytes it carried.</summary>
public sealed class OpenFlow : IDisposable
{
    private readonly FlowRegistry _registry;
    private readonly CancellationTokenSource _cts;
    private long _lastActivity = Environment.TickCount64;
    private long _bytesUp;
    private long _bytesDown;
    private int _disposed;
    private int _aborted;

    internal OpenFlow(FlowRegistry registry, CancellationToken ct)
    {
        _registry = registry;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
    }

    /// <summary>Cancelled when the flow must end (idle, reset on the other side, drain).</summary>
    public CancellationToken Cancellation => _cts.Token;

    /// <summary>The device (or connector) that opened the flow, when it came with a certificate.</summary>
    public string? Subject { get; set; }

    /// <summary>
    /// The proxy credentials (the <c>Proxy-Authorization</c> value) the flow was opened with, when it came through the
    /// forward proxy: checked again when the edge's credentials change, so that a deleted credential or a disabled
    /// user ends it.
    /// </summary>
    public string? Credential { get; set; }

    /// <summary>
    /// The app connector that carries the flow, when one does on a connection of its own (a relayed private flow): a
    /// bundle that no longer lists it (revoked, deleted) ends the flow, as closing the connector's links ends the rest.
    /// </summary>
    public string? Connector { get; set; }

    /// <summary>Bytes from the client.</summary>
    public long BytesUp => Interlocked.Read(ref _bytesUp);

    /// <summary>Bytes to the client.</summary>
    public long BytesDown => Interlocked.Read(ref _bytesDown);

    internal long LastActivity => Volatile.Read(ref _lastActivity);

    /// <summary>Marks the flow active now.</summary>
    public void Touch() => Volatile.Write(ref _lastActivity, Environment.TickCount64);

    /// <summary>Adds carried bytes.</summary>
    /// <param name="up">True for client → destination.</param>
    /// <param name="bytes">How many.</param>
    public void Count(bool up, long bytes)
    {
        if (up)
        {
            Interlocked.Add(ref _bytesUp, bytes);
        }
        else
        {
            Interlocked.Add(ref _bytesDown, bytes);
        }
    }

    /// <summary>Why the flow was ended from outside (idle, its access revoked, the edge stopping), once it was.</summary>
    public string? EndedBecause { get; private set; }

    /// <summary>
    /// Why the flow broke by itself, once it did: one of its ends reset it or went away in the middle ("the destination
    /// reset the connection"). Null when it ended cleanly, was refused, or was ended from outside
    /// (<see cref="EndedBecause"/>): whatever cut the flow first is the one that says why.
    /// </summary>
    public string? BrokenBecause { get; private set; }

    /// <summary>
    /// Whether the flow was cut rather than ended by both sides: a reset, a cancellation (idle, revoked, drained) or a
    /// refusal. Both its ends should see it as a cut too, not as an end: a TCP reset (or a reset of the HTTP/2 stream
    /// that carries it), where a FIN would make what was cut short look complete.
    /// </summary>
    public bool WasCut => Volatile.Read(ref _aborted) != 0;

    /// <summary>Ends the flow now.</summary>
    /// <param name="because">Why, for its record.</param>
    public void Abort(string? because = null) => TryAbort(because);

    /// <summary>Ends the flow now from outside.</summary>
    /// <returns>True when this call ended it; false when it had already been ended.</returns>
    internal bool TryAbort(string? because) => TryCut(because, fromOutside: true);

    /// <summary>Ends the flow now because one of its ends broke it (a relay's finding): see <see cref="BrokenBecause"/>.</summary>
    /// <param name="because">How it broke, for its record ("the connector reset the connection").</param>
    public void Break(string because) => TryCut(because, fromOutside: false);

    private bool TryCut(string? because, bool fromOutside)
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
        {
            return false;
        }

        // Set before the cancellation, so that whatever the cancellation wakes finds why.
        if (fromOutside)
        {
            EndedBecause = because;
        }
        else
        {
            BrokenBecause = because;
        }

        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already over.
        }

        return true;
    }

    /// <summary>Unregisters the flow.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _registry.Remove(this);
            _cts.Dispose();
        }
    }
}
