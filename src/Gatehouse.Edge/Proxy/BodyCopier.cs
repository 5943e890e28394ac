using System.Buffers;
using System.IO.Pipelines;
using Gatehouse.Flows;
using Gatehouse.Wire.Http;

namespace Gatehouse.Edge.Proxy;

/// <summary>How copying a body ended.</summary>
internal enum CopyEnd
{
    /// <summary>The whole body was copied.</summary>
    Done,

    /// <summary>The sender closed before the body ended.</summary>
    Truncated,

    /// <summary>The receiver is gone.</summary>
    ReceiverGone,

    /// <summary>The chunked framing is broken.</summary>
    Malformed,
}

/// <summary>
/// Copies one message body from a pipe to a pipe, byte for byte (chunk framing included), and stops
/// exactly at its end so the next message on a kept-alive connection starts where it should.
/// </summary>
internal static class BodyCopier
{
    private const int MaxChunkLine = 4096;

    /// <summary>Copies <paramref name="length"/> bytes.</summary>
    public static async ValueTask<(CopyEnd End, long Bytes)> CopyLengthAsync(PipeReader from, PipeWriter to, long length, OpenFlow flow, bool up, CancellationToken ct)
    {
        var left = length;
        while (left > 0)
        {
            var read = await from.ReadAsync(ct);
            var buffer = read.Buffer;
            var take = buffer.Slice(0, Math.Min(left, buffer.Length));
            Write(to, take, flow, up);
            left -= take.Length;
            from.AdvanceTo(take.End);
            if (!take.IsEmpty && (await to.FlushAsync(ct)).IsCompleted)
            {
                return (CopyEnd.ReceiverGone, length - left);
            }

            if (left > 0 && read.IsCompleted && buffer.Length == take.Length)
            {
                return (CopyEnd.Truncated, length - left);
            }
        }

        return (CopyEnd.Done, length);
    }

    /// <summary>Copies everything until the sender closes.</summary>
    public static async ValueTask<(CopyEnd End, long Bytes)> CopyToEndAsync(PipeReader from, PipeWriter to, OpenFlow flow, bool up, CancellationToken ct)
    {
        long total = 0;
        while (true)
        {
            var read = await from.ReadAsync(ct);
            var buffer = read.Buffer;
            Write(to, buffer, flow, up);
            total += buffer.Length;
            from.AdvanceTo(buffer.End);
            if (!buffer.IsEmpty && (await to.FlushAsync(ct)).IsCompleted)
            {
                return (CopyEnd.ReceiverGone, total);
            }

            if (read.IsCompleted)
            {
                return (CopyEnd.Done, total);
            }
        }
    }

    /// <summary>
    /// Copies a chunked body: chunks, the last chunk and the trailer section; with <paramref name="decode"/>, only the
    /// chunks' data, for an HTTP/1.0 client (which reads the body to the connection's end; RFC 9112 section 6.1).
    /// </summary>
    public static async ValueTask<(CopyEnd End, long Bytes)> CopyChunkedAsync(PipeReader from, PipeWriter to, OpenFlow flow, bool up, CancellationToken ct, bool decode = false)
    {
        var state = new ChunkState();
        var decoder = decode ? new DataWriter(to, flow, up) : null;
        long total = 0;
        while (true)
        {
            var read = await from.ReadAsync(ct);
            var buffer = read.Buffer;
            var before = total;
            var (end, consumed) = state.Advance(buffer, decoder);
            if (decoder is null)
            {
                var take = buffer.Slice(0, consumed);
                Write(to, take, flow, up);
                total += take.Length;
            }
            else
            {
                total = decoder.Written;
            }

            var wrote = total > before;

            // Past the body's end, what has come is the next message's: unread, so that the next read returns it at once.
            from.AdvanceTo(consumed, state.Finished ? consumed : buffer.End);
            if (end == CopyEnd.Malformed)
            {
                return (CopyEnd.Malformed, total);
            }

            if (wrote && (await to.FlushAsync(ct)).IsCompleted)
            {
                return (CopyEnd.ReceiverGone, total);
            }

            if (state.Finished)
            {
                return (CopyEnd.Done, total);
            }

            if (read.IsCompleted)
            {
                return (CopyEnd.Truncated, total);
            }
        }
    }

    private static void Write(PipeWriter to, in ReadOnlySequence<byte> data, OpenFlow flow, bool up)
    {
        if (data.IsEmpty)
        {
            return;
        }

        flow.Touch();
        flow.Count(up, data.Length);
        foreach (var segment in data)
        {
            to.Write(segment.Span);
        }
    }

    /// <summary>Writes a chunked body's data without its framing, counting it (made only for a body that is decoded).</summary>
    private sealed class DataWriter(PipeWriter to, OpenFlow flow, bool up)
    {
        public long Written { get; private set; }

        public void Write(in ReadOnlySequence<byte> data)
        {
            BodyCopier.Write(to, data, flow, up);
            Written += data.Length;
        }
    }

    /// <summary>Where a chunked body is: in a size line, in data, after data, or in the trailers.</summary>
    private sealed class ChunkState
    {
        private enum Part
        {
            SizeLine,
            Data,
            DataEnd,
            Trailers,
            Finished,
        }

        private Part _part = Part.SizeLine;
        private long _left;

        public bool Finished => _part == Part.Finished;

        /// <summary>
        /// For a line with no CRLF in what has come so far: malformed if it is already too long or holds a bare LF (no
        /// CRLF can end it then), else more is needed.
        /// </summary>
        private static CopyEnd LineNotEndedYet(SequenceReader<byte> reader) =>
            reader.Remaining > MaxChunkLine || reader.UnreadSequence.PositionOf((byte)'\n') is not null ? CopyEnd.Malformed : CopyEnd.Done;

        /// <summary>Moves through <paramref name="buffer"/>, giving <paramref name="onData"/> the chunks' data; returns how far whole parts reach.</summary>
        public (CopyEnd End, SequencePosition Consumed) Advance(ReadOnlySequence<byte> buffer, DataWriter? onData = null)
        {
            var reader = new SequenceReader<byte>(buffer);
            while (!reader.End && _part != Part.Finished)
            {
                switch (_part)
                {
                    case Part.SizeLine:
                        if (!reader.TryReadTo(out ReadOnlySequence<byte> line, "\r\n"u8, advancePastDelimiter: true))
                        {
                            return (LineNotEndedYet(reader), reader.Position);
                        }

                        if (!TryParseSize(line, out _left))
                        {
                            return (CopyEnd.Malformed, reader.Position);
                        }

                        _part = _left == 0 ? Part.Trailers : Part.Data;
                        break;
                    case Part.Data:
                        var step = Math.Min(_left, reader.Remaining);
                        onData?.Write(reader.UnreadSequence.Slice(0, step));
                        reader.Advance(step);
                        _left -= step;
                        if (_left == 0)
                        {
                            _part = Part.DataEnd;
                        }

                        break;
                    case Part.DataEnd:
                        if (reader.Remaining < 2)
                        {
                            return (CopyEnd.Done, reader.Position);
                        }

                        if (!reader.IsNext("\r\n"u8, advancePast: true))
                        {
                            return (CopyEnd.Malformed, reader.Position);
                        }

                        _part = Part.SizeLine;
                        break;
                    case Part.Trailers:
                        if (!reader.TryReadTo(out ReadOnlySequence<byte> trailer, "\r\n"u8, advancePastDelimiter: true))
                        {
                            return (LineNotEndedYet(reader), reader.Position);
                        }

                        if (trailer.IsEmpty)
                        {
                            _part = Part.Finished;
                        }
                        else if (!IsFieldLine(trailer))
                        {
                            // A bare LF would end the trailers early for a recipient that accepts one (RFC 9112
                            // section 2.2), which would then read what follows as another message.
                            return (CopyEnd.Malformed, reader.Position);
                        }

                        break;
                }
            }

            return (CopyEnd.Done, reader.Position);
        }

        /// <summary>Whether a trailer line is <c>name: value</c>, with a token name and no control character but tab.</summary>
        private static bool IsFieldLine(ReadOnlySequence<byte> line)
        {
            if (line.Length > MaxChunkLine)
            {
                return false;
            }

            Span<byte> text = stackalloc byte[(int)line.Length];
            line.CopyTo(text);
            return HttpSyntax.IsFieldLine(text);
        }

        private static bool TryParseSize(ReadOnlySequence<byte> line, out long size)
        {
            size = 0;
            if (line.Length > MaxChunkLine)
            {
                return false;
            }

            Span<byte> text = stackalloc byte[(int)line.Length];
            line.CopyTo(text);
            var digits = 0;
            foreach (var b in text)
            {
                var value = b switch
                {
                    >= (byte)'0' and <= (byte)'9' => b - '0',
                    >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                    >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                    _ => -1,
                };
                if (value < 0)
                {
                    // Chunk extensions (";name=value") and spaces before them are passed on, not interpreted.
                    return digits > 0 && (b == ';' || b == ' ' || b == '\t') && !text.ContainsAny("\r\n"u8);
                }

                if (++digits > 15)
                {
                    return false;
                }

                size = (size * 16) + value;
            }

            return digits > 0;
        }
    }
}
