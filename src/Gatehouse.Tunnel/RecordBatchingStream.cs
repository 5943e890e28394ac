using System.Buffers;

namespace Gatehouse.Tunnel;

/// <summary>
/// Sits between a TLS stream and its socket so that TLS records cross the socket several at a time: a receive
/// takes up to <see cref="ReadSize"/> bytes and hands them out record by record, and (once
/// <see cref="BatchWrites"/> is on) what the TLS stream writes between two flushes goes out in one send.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="System.Net.Security.SslStream"/> reads one record at a time from its inner stream (with a zero-byte
/// read before it when it has nothing) and writes each record (at most 16 KiB of plaintext) on its own. On
/// loopback and veth every send also runs the receiver's TCP processing and wakes the receiver, and every
/// receive is a system call: strace under bench/connector.sh showed a connector making one 16,406-byte
/// <c>sendto</c> per record and the agent two <c>recvfrom</c>s per record.
/// </para>
/// <para>
/// Writes are held only while <see cref="BatchWrites"/> is on: turn it on after the TLS handshake, whose
/// messages must go out as they are written, and only under a writer that flushes (a pipe writer over the TLS
/// stream does, and the TLS stream passes the flush on). At most <see cref="WriteCapacity"/> bytes are held
/// before they go out anyway. A zero-byte read passes through when nothing is buffered, so a reader that
/// waits for data that way holds no buffer meanwhile. One read and one write or flush at a time, as a stream
/// allows.
/// </para>
/// </remarks>
public sealed class RecordBatchingStream : DelegatingStream
{
    /// <summary>Bytes a receive asks for: four full TLS records.</summary>
    public const int ReadSize = 64 * 1024;

    /// <summary>Bytes held at most before they are sent without waiting for the flush.</summary>
    public const int WriteCapacity = 256 * 1024;

    // Each is rented when bytes are to be held and returned once they are gone, so that a quiet connection (an idle
    // relayed flow, say) holds neither. Neither goes back to the pool on dispose: a read or write may still be using it.
    private byte[]? _received;
    private int _receivedStart;
    private int _receivedEnd;
    private byte[]? _held;
    private int _heldCount;

    /// <summary>Wraps <paramref name="inner"/> (the socket's stream), which it owns.</summary>
    public RecordBatchingStream(Stream inner)
        : base(inner)
    {
    }

    /// <summary>Whether writes are held until the next flush; off until set (during a handshake).</summary>
    public bool BatchWrites { get; set; }

    /// <summary>Bytes written and not yet sent.</summary>
    public int Held => _heldCount;

    /// <summary>Whether it holds memory now: received bytes not yet read, or written bytes not yet sent.</summary>
    public bool HoldsMemory => _received is not null || _held is not null;

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_receivedEnd > _receivedStart)
        {
            return TakeReceived(buffer.Span);
        }

        if (buffer.Length == 0 || buffer.Length >= ReadSize)
        {
            return await Inner.ReadAsync(buffer, cancellationToken);
        }

        var received = ArrayPool<byte>.Shared.Rent(ReadSize);
        int count;
        try
        {
            count = await Inner.ReadAsync(received.AsMemory(0, ReadSize), cancellationToken);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(received);
            throw;
        }

        if (count == 0)
        {
            ArrayPool<byte>.Shared.Return(received);
            return 0;
        }

        (_received, _receivedStart, _receivedEnd) = (received, 0, count);
        return TakeReceived(buffer.Span);
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc />
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!BatchWrites && _heldCount == 0)
        {
            await Inner.WriteAsync(buffer, cancellationToken);
            return;
        }

        if (_heldCount + buffer.Length > WriteCapacity)
        {
            await SendHeldAsync(cancellationToken);
        }

        if (buffer.Length >= WriteCapacity || !BatchWrites)
        {
            await Inner.WriteAsync(buffer, cancellationToken);
            return;
        }

        _held ??= ArrayPool<byte>.Shared.Rent(WriteCapacity);
        buffer.Span.CopyTo(_held.AsSpan(_heldCount));
        _heldCount += buffer.Length;
    }

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc />
    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await SendHeldAsync(cancellationToken);
        await Inner.FlushAsync(cancellationToken);
    }

    /// <inheritdoc />
    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    private int TakeReceived(Span<byte> destination)
    {
        var count = Math.Min(destination.Length, _receivedEnd - _receivedStart);
        _received.AsSpan(_receivedStart, count).CopyTo(destination);
        _receivedStart += count;
        if (_receivedStart == _receivedEnd)
        {
            ArrayPool<byte>.Shared.Return(_received!);
            (_received, _receivedStart, _receivedEnd) = (null, 0, 0);
        }

        return count;
    }

    private async ValueTask SendHeldAsync(CancellationToken ct)
    {
        if (_heldCount == 0)
        {
            return;
        }

        var (held, count) = (_held!, _heldCount);
        (_held, _heldCount) = (null, 0);
        try
        {
            await Inner.WriteAsync(held.AsMemory(0, count), ct);
        }
        finally
        {
            // The write is over, whichever way: the socket no longer reads the array.
            ArrayPool<byte>.Shared.Return(held);
        }
    }
}
