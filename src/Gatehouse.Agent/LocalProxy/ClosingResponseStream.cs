using Gatehouse.Tunnel;

namespace Gatehouse.Agent.LocalProxy;

/// <summary>
/// The destination's side of a plain-HTTP request that the local proxy forwarded with <c>Connection: close</c>.
/// Reads give the application the destination's answer with <c>Connection: close</c> added to the head of the
/// final response, after any 1xx heads, because the local proxy closes the application's connection after
/// it: a server that does not keep a connection open must say so in every final response (RFC 9112, 9.6),
/// or a client that reuses the connection loses the request it sends next. A destination that says it already
/// only has the option twice, which means the same.
/// </summary>
/// <remarks>
/// <code>
/// HTTP/1.1 100 Continue\r\n ... \r\n\r\n   passed as it is (any number of 1xx heads)
/// HTTP/1.1 200 OK\r\n                      passed, then "Connection: close\r\n"
/// the rest                                  passed as it is, read straight from the flow
/// </code>
/// An answer that does not start as an HTTP/1.x status line, or whose status line is longer than
/// <see cref="MaxStatusLineBytes"/>, passes unchanged. Writes, the half-close and the reset go to the flow's
/// stream unchanged.
/// </remarks>
internal sealed class ClosingResponseStream(Stream flow) : Stream, IFlowStream
{
    /// <summary>The longest status line looked at; a longer one is not an answer this proxy marks.</summary>
    public const int MaxStatusLineBytes = 8 * 1024;

    /// <summary>The most read from the flow at a time until the final status line is through.</summary>
    private const int HeadReadBytes = 4096;

    private static readonly byte[] CloseOption = "Connection: close\r\n"u8.ToArray();

    private readonly List<byte> _statusLine = [];
    private byte[] _pending = [];
    private int _pendingOffset;
    private Phase _phase = Phase.StatusLine;
    private bool _interimLineEmpty = true;

    private enum Phase
    {
        /// <summary>Reading a status line.</summary>
        StatusLine,

        /// <summary>Reading the header lines of a 1xx response, up to its empty line.</summary>
        InterimHead,

        /// <summary>The final head is marked (or the answer is not one to mark): everything else passes as it is.</summary>
        PassThrough,
    }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_pendingOffset < _pending.Length)
            {
                return TakePending(buffer.Span);
            }

            // A zero-byte read waits for data without a buffer, as the relay asks.
            if (_phase == Phase.PassThrough || buffer.IsEmpty)
            {
                return await flow.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }

            // Small reads until the final status line is through: what comes with it is copied once more, the rest not at all.
            var read = await flow.ReadAsync(buffer[..Math.Min(buffer.Length, HeadReadBytes)], cancellationToken).ConfigureAwait(false);
            _pending = read == 0 ? End() : Mark(buffer.Span[..read]);
            _pendingOffset = 0;
            if (read == 0 && _pending.Length == 0)
            {
                return 0;
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => flow.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => flow.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => flow.Write(buffer, offset, count);

    public override Task FlushAsync(CancellationToken cancellationToken) => flow.FlushAsync(cancellationToken);

    public override void Flush() => flow.Flush();

    public ValueTask CompleteWritesAsync(CancellationToken ct = default) =>
        flow is IFlowStream halfClosing ? halfClosing.CompleteWritesAsync(ct) : ValueTask.CompletedTask;

    public void Reset() => (flow as IFlowStream)?.Reset();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override ValueTask DisposeAsync() => flow.DisposeAsync();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            flow.Dispose();
        }
    }

    private int TakePending(Span<byte> destination)
    {
        var count = Math.Min(destination.Length, _pending.Length - _pendingOffset);
        _pending.AsSpan(_pendingOffset, count).CopyTo(destination);
        _pendingOffset += count;
        return count;
    }

    /// <summary>What the application gets for <paramref name="read"/>: the same bytes, the close option after a final status line.</summary>
    private byte[] Mark(ReadOnlySpan<byte> read)
    {
        var output = new List<byte>(read.Length + CloseOption.Length);
        for (var i = 0; i < read.Length; i++)
        {
            if (_phase == Phase.PassThrough)
            {
                // The rest of the read is body: copied whole, not looked at.
                output.AddRange(read[i..]);
                break;
            }

            var b = read[i];
            switch (_phase)
            {
                case Phase.StatusLine:
                    _statusLine.Add(b);
                    if (b == (byte)'\n')
                    {
                        output.AddRange(_statusLine);
                        var status = StatusOf(_statusLine);
                        _statusLine.Clear();
                        if (status is >= 100 and < 200)
                        {
                            _phase = Phase.InterimHead;
                            _interimLineEmpty = true;
                        }
                        else
                        {
                            if (status is not null)
                            {
                                output.AddRange(CloseOption);
                            }

                            _phase = Phase.PassThrough;
                        }
                    }
                    else if (_statusLine.Count > MaxStatusLineBytes)
                    {
                        output.AddRange(_statusLine);
                        _statusLine.Clear();
                        _phase = Phase.PassThrough;
                    }

                    break;
                case Phase.InterimHead:
                    output.Add(b);
                    if (b == (byte)'\n')
                    {
                        // An empty line ends the 1xx head; the next status line follows.
                        _phase = _interimLineEmpty ? Phase.StatusLine : Phase.InterimHead;
                        _interimLineEmpty = true;
                    }
                    else if (b != (byte)'\r')
                    {
                        _interimLineEmpty = false;
                    }

                    break;
            }
        }

        return [.. output];
    }

    /// <summary>The destination ended: a status line it left unfinished goes to the application as it is.</summary>
    private byte[] End()
    {
        _phase = Phase.PassThrough;
        byte[] rest = [.. _statusLine];
        _statusLine.Clear();
        return rest;
    }

    /// <summary>The status code of an HTTP/1.x status line (<c>HTTP/1.1 200 OK\r\n</c>), or null when it is not one.</summary>
    private static int? StatusOf(List<byte> line)
    {
        // "HTTP/1.x " and three digits, then a space or the line's end.
        if (line.Count < 13 || line[0] != 'H' || line[1] != 'T' || line[2] != 'T' || line[3] != 'P' || line[4] != '/'
            || line[5] != '1' || line[6] != '.' || line[8] != ' ')
        {
            return null;
        }

        var status = 0;
        for (var i = 9; i < 12; i++)
        {
            if (line[i] is < (byte)'0' or > (byte)'9')
            {
                return null;
            }

            status = (status * 10) + (line[i] - '0');
        }

        return line[12] is (byte)' ' or (byte)'\r' or (byte)'\n' ? status : null;
    }
}
