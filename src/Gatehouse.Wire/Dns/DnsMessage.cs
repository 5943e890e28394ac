using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Wire.Dns;

/// <summary>Record types the agent's resolver answers itself (RFC 1035, RFC 3596), and those its DR lookup reads.</summary>
public static class DnsTypes
{
    /// <summary>An alias: the name's records are those of another name.</summary>
    public const ushort Cname = 5;

    /// <summary>Text strings (the DR trigger).</summary>
    public const ushort Txt = 16;

    /// <summary>An IPv4 address.</summary>
    public const ushort A = 1;

    /// <summary>An IPv6 address.</summary>
    public const ushort Aaaa = 28;
}

/// <summary>Response codes (RFC 1035 section 4.1.1).</summary>
public static class DnsResponseCodes
{
    /// <summary>No error; with no answers, the name exists but has no record of the type (NODATA).</summary>
    public const int NoError = 0;

    /// <summary>The query could not be read.</summary>
    public const int FormatError = 1;

    /// <summary>The resolver could not answer.</summary>
    public const int ServerFailure = 2;

    /// <summary>The name does not exist.</summary>
    public const int NameError = 3;

    /// <summary>The resolver will not answer this query.</summary>
    public const int Refused = 5;
}

/// <summary>The one question of a standard query: the name lower-cased, without the final dot.</summary>
/// <param name="Id">The query's id, which the answer repeats.</param>
/// <param name="Name">The name asked for.</param>
/// <param name="Type">The record type.</param>
/// <param name="Class">The class (1, IN).</param>
/// <param name="RecursionDesired">Whether the client asked for recursion (repeated in the answer).</param>
/// <param name="QuestionEnd">Where the question section ends in the message.</param>
public sealed record DnsQuery(ushort Id, string Name, ushort Type, ushort Class, bool RecursionDesired, int QuestionEnd);

/// <summary>
/// Reads DNS queries and writes the answers the agent gives itself (RFC 1035): one question, an A
/// record, NODATA, or an error code. Everything else is forwarded as bytes and never parsed.
/// </summary>
public static class DnsMessage
{
    private const int HeaderLength = 12;
    private const int MaxNameLength = 255;

    /// <summary>Reads a standard query with exactly one question.</summary>
    /// <param name="message">The message as received (over TCP, without its length prefix).</param>
    /// <param name="query">The query.</param>
    /// <param name="error">Why it cannot be read.</param>
    /// <returns>Whether it is a query that can be answered; when false and the header could be read, <paramref name="query"/> still carries the id.</returns>
    public static bool TryReadQuery(ReadOnlySpan<byte> message, out DnsQuery? query, out string? error)
    {
        query = null;
        if (message.Length < HeaderLength)
        {
            error = "shorter than a DNS header";
            return false;
        }

        var id = BinaryPrimitives.ReadUInt16BigEndian(message);
        var flags = BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        var questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        if ((flags & 0x8000) != 0)
        {
            error = "a response, not a query";
            return false;
        }

        if (((flags >> 11) & 0xF) != 0 || questions != 1)
        {
            error = questions != 1 ? $"{questions} questions, not one" : "not a standard query";
            query = new DnsQuery(id, string.Empty, 0, 0, (flags & 0x0100) != 0, HeaderLength);
            return false;
        }

        var offset = HeaderLength;
        if (!TryReadName(message, ref offset, out var name, out error) || offset + 4 > message.Length)
        {
            error ??= "the question is cut short";
            query = new DnsQuery(id, string.Empty, 0, 0, (flags & 0x0100) != 0, HeaderLength);
            return false;
        }

        var type = BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
        var @class = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 2)..]);
        query = new DnsQuery(id, name, type, @class, (flags & 0x0100) != 0, offset + 4);
        error = null;
        return true;
    }

    /// <summary>
    /// The answer to <paramref name="query"/>: its question repeated and, when <paramref name="address"/>
    /// is given, one A or AAAA record with the query's name; without an address it is NODATA
    /// (<see cref="DnsResponseCodes.NoError"/> with no records), which tells the client the name
    /// exists. Authoritative, recursion available.
    /// </summary>
    /// <param name="message">The query as received; its question section is copied.</param>
    /// <param name="query">The query read from it.</param>
    /// <param name="address">The address to answer with, or null for NODATA.</param>
    /// <param name="ttl">How long the client may cache the answer, in seconds.</param>
    public static byte[] Answer(ReadOnlySpan<byte> message, DnsQuery query, IPAddress? address, uint ttl)
    {
        ArgumentNullException.ThrowIfNull(query);
        var data = address?.GetAddressBytes();
        var answerLength = data is null ? 0 : 2 + 2 + 2 + 4 + 2 + data.Length;
        var answer = new byte[query.QuestionEnd + answerLength];
        message[HeaderLength..query.QuestionEnd].CopyTo(answer.AsSpan(HeaderLength));
        WriteHeader(answer, query, DnsResponseCodes.NoError, questions: 1, answers: data is null ? 0 : 1);
        if (data is not null)
        {
            var record = answer.AsSpan(query.QuestionEnd);
            BinaryPrimitives.WriteUInt16BigEndian(record, 0xC000 | HeaderLength); // the name: a pointer to the question's
            BinaryPrimitives.WriteUInt16BigEndian(record[2..], address!.AddressFamily == AddressFamily.InterNetwork ? DnsTypes.A : DnsTypes.Aaaa);
            BinaryPrimitives.WriteUInt16BigEndian(record[4..], 1);
            BinaryPrimitives.WriteUInt32BigEndian(record[6..], ttl);
            BinaryPrimitives.WriteUInt16BigEndian(record[10..], (ushort)data.Length);
            data.CopyTo(record[12..]);
        }

        return answer;
    }

    /// <summary>An answer with no records and <paramref name="responseCode"/>, repeating the question when it was read.</summary>
    public static byte[] Error(ReadOnlySpan<byte> message, DnsQuery? query, int responseCode)
    {
        if (query is null)
        {
            var bare = new byte[HeaderLength];
            if (message.Length >= 2)
            {
                message[..2].CopyTo(bare);
            }

            bare[2] = 0x80;
            bare[3] = (byte)(0x80 | responseCode);
            return bare;
        }

        var hasQuestion = query.QuestionEnd > HeaderLength;
        var error = new byte[query.QuestionEnd];
        message[HeaderLength..query.QuestionEnd].CopyTo(error.AsSpan(HeaderLength));
        WriteHeader(error, query, responseCode, questions: hasQuestion ? 1 : 0, answers: 0);
        return error;
    }

    /// <summary>A standard recursive query for <paramref name="name"/> (tests and probes).</summary>
    public static byte[] Query(ushort id, string name, ushort type)
    {
        ArgumentNullException.ThrowIfNull(name);
        var labels = name.TrimEnd('.').Split('.');
        var length = HeaderLength + labels.Sum(l => 1 + Encoding.ASCII.GetByteCount(l)) + 1 + 4;
        var query = new byte[length];
        BinaryPrimitives.WriteUInt16BigEndian(query, id);
        query[2] = 0x01; // RD
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(4), 1);
        var offset = HeaderLength;
        foreach (var label in labels)
        {
            query[offset++] = (byte)label.Length;
            offset += Encoding.ASCII.GetBytes(label, query.AsSpan(offset));
        }

        query[offset++] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(offset), type);
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(offset + 2), 1);
        return query;
    }

    /// <summary>The response code and the A/AAAA addresses of an answer (tests and probes).</summary>
    public static (int ResponseCode, IReadOnlyList<IPAddress> Addresses) ReadAnswer(ReadOnlySpan<byte> message)
    {
        if (message.Length < HeaderLength)
        {
            throw new FormatException("The answer is shorter than a DNS header.");
        }

        var code = message[3] & 0xF;
        var questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        var answers = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
        var offset = HeaderLength;
        for (var i = 0; i < questions; i++)
        {
            if (!TryReadName(message, ref offset, out _, out var error))
            {
                throw new FormatException(error);
            }

            offset += 4;
        }

        var addresses = new List<IPAddress>();
        for (var i = 0; i < answers; i++)
        {
            if (!TryReadName(message, ref offset, out _, out var error) || offset + 10 > message.Length)
            {
                throw new FormatException(error ?? "An answer record is cut short.");
            }

            var type = BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 8)..]);
            offset += 10;
            if (offset + length > message.Length)
            {
                throw new FormatException("An answer record is cut short.");
            }

            if (type is DnsTypes.A or DnsTypes.Aaaa)
            {
                addresses.Add(new IPAddress(message.Slice(offset, length)));
            }

            offset += length;
        }

        return (code, addresses);
    }

    private static void WriteHeader(Span<byte> message, DnsQuery query, int responseCode, int questions, int answers)
    {
        BinaryPrimitives.WriteUInt16BigEndian(message, query.Id);
        message[2] = (byte)(0x80 | 0x04 | (query.RecursionDesired ? 0x01 : 0)); // QR, AA, RD as asked
        message[3] = (byte)(0x80 | (responseCode & 0xF)); // RA
        BinaryPrimitives.WriteUInt16BigEndian(message[4..], (ushort)questions);
        BinaryPrimitives.WriteUInt16BigEndian(message[6..], (ushort)answers);
        BinaryPrimitives.WriteUInt16BigEndian(message[8..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(message[10..], 0);
    }

    /// <summary>Reads a (possibly compressed) name at <paramref name="offset"/> and moves past it.</summary>
    /// <param name="message">The whole message (compression pointers are offsets into it).</param>
    /// <param name="offset">Where the name starts; on success, just past it.</param>
    /// <param name="name">The name, lower-cased, without the final dot.</param>
    /// <param name="error">Why it cannot be read.</param>
    /// <returns>Whether it could be read.</returns>
    public static bool TryReadName(ReadOnlySpan<byte> message, ref int offset, out string name, out string? error)
    {
        var text = new StringBuilder();
        var position = offset;
        var end = -1;
        var jumps = 0;
        var length = 0;
        while (true)
        {
            if (position >= message.Length)
            {
                (name, error) = (string.Empty, "a name runs past the end of the message");
                return false;
            }

            var label = message[position];
            if (label == 0)
            {
                position++;
                break;
            }

            if ((label & 0xC0) == 0xC0)
            {
                if (position + 1 >= message.Length || ++jumps > 16)
                {
                    (name, error) = (string.Empty, "a name's compression pointer is broken");
                    return false;
                }

                end = end < 0 ? position + 2 : end;
                position = ((label & 0x3F) << 8) | message[position + 1];
                continue;
            }

            if ((label & 0xC0) != 0 || position + 1 + label > message.Length || (length += label + 1) > MaxNameLength)
            {
                (name, error) = (string.Empty, "a name's label is not valid");
                return false;
            }

            if (text.Length > 0)
            {
                text.Append('.');
            }

            foreach (var b in message.Slice(position + 1, label))
            {
                text.Append(b is >= (byte)'A' and <= (byte)'Z' ? (char)(b + 32) : (char)b);
            }

            position += 1 + label;
        }

        offset = end >= 0 ? end : position;
        (name, error) = (text.ToString(), null);
        return true;
    }
}
