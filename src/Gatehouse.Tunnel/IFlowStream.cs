namespace Gatehouse.Tunnel;

/// <summary>
/// A flow's stream towards its destination, whichever way it is carried (a tunnel stream, a relayed flow, a socket
/// of its own): its sending can end while reading goes on (a TCP half-close), or the whole flow can be cut.
/// </summary>
public interface IFlowStream
{
    /// <summary>Sends what was written and then the end of this direction; the other end reads its end, and reading here goes on.</summary>
    /// <param name="ct">Cancels waiting for what was written to go out.</param>
    ValueTask CompleteWritesAsync(CancellationToken ct = default);

    /// <summary>
    /// Cuts the flow: the other end learns that what it was sent was cut, not that it ended (a TCP reset, an HTTP/2
    /// RST_STREAM), and reading fails from here on.
    /// </summary>
    void Reset();
}
