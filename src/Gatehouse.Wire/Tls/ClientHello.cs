using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Gatehouse.Wire.Addresses;

namespace Gatehouse.Wire.Tls;

/// <summary>What the first bytes of a flow say about TLS.</summary>
public enum ClientHelloStatus
{
    /// <summary>Not enough bytes yet to tell.</summary>
    NeedMore,

    /// <summary>Not a TLS ClientHello (another protocol).</summary>
    NotTls,

    /// <summary>A ClientHello; <c>serverName</c> is its SNI, or null when it carries none.</summary>
    Found,

    /// <summary>
    /// TLS records whose ClientHello cannot be read: a first record that is not a handshake record (an alert, a
    /// ChangeCipherSpec, application data), a handshake message that is not a ClientHello, records of other types
    /// between its fragments, empty fragments, bytes after its extensions, a server name that is not one host name,
    /// or more than <see cref="ClientHello.MaxBytes"/> allows. No TLS server takes one as the ClientHello it is meant
    /// to be.
    /// </summary>
    Malformed,
}

/// <summary>Reads the server name (SNI, RFC 6066) out of a TLS ClientHello without decrypting anything.</summary>
/// <remarks>
/// A ClientHello may be split over several handshake records (RFC 8446 §5.1), as tools that evade SNI filtering do
/// on purpose, a byte or a few per record: the fragments are put together again before the name is read. Bytes that
/// start a TLS record of any type (content type 20–24, then 3, the major version) are TLS: the first record must be a
/// handshake record, since a server that skips or takes an alert or a ChangeCipherSpec first would read the
/// ClientHello after it unchecked. The server name must be one host name, as a rule could name it
/// (<see cref="DomainName.IsHostName"/>; one final dot is dropped): control bytes, bytes outside ASCII or empty
/// labels make the ClientHello unreadable rather than nameless.
/// </remarks>
public static class ClientHello
{
    /// <summary>The most bytes worth waiting for: the records of a ClientHello of up to <see cref="MaxMessageBytes"/>, in small fragments.</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>The longest ClientHello read (the handshake message, its 4-byte header included); browsers' are under 2 KiB.</summary>
    public const int MaxMessageBytes = 16 * 1024;

    internal const int RecordHeaderBytes = 5;
    internal const int MaxRecordBytes = 16384;
    internal const byte ChangeCipherSpecRecord = 0x14;
    internal const byte HandshakeRecord = 0x16;
    internal const byte HeartbeatRecord = 0x18;
    internal const byte ClientHelloMessage = 0x01;

    /// <summary>Looks at the first bytes a client sent, once; <see cref="ClientHelloReader"/> reads them as they arrive.</summary>
    /// <param name="data">The bytes so far.</param>
    /// <param name="serverName">The SNI host name, lower-cased, when found.</param>
    public static ClientHelloStatus TryReadServerName(ReadOnlySequence<byte> data, out string? serverName) =>
        new ClientHelloReader().Read(data, out serverName);

    /// <summary>Whether <paramref name="first"/>, a flow's first byte, is a TLS record's content type (RFC 8446 section 5.1, and heartbeat).</summary>
    public static bool IsRecordType(byte first) => first is >= ChangeCipherSpecRecord and <= HeartbeatRecord;

    /// <summary>Reads a whole ClientHello message; <paramref name="problem"/> says what is wrong with a server name that is not one host name.</summary>
    internal static bool Parse(ReadOnlySpan<byte> body, out string? serverName, out string? problem)
    {
        serverName = null;
        problem = null;

        // Handshake: type 1 (client_hello), 24-bit length; then version, random, session id, ciphers, compression, extensions.
        if (body.Length < 4 || body[0] != 0x01)
        {
            return false;
        }

        var position = 4 + 2 + 32;
        if (!Skip(body, ref position, 1) || !Skip(body, ref position, 2) || !Skip(body, ref position, 1))
        {
            return false;
        }

        if (position == body.Length)
        {
            return true; // no extensions
        }

        if (position + 2 > body.Length)
        {
            return false;
        }

        // The extensions fill the rest of the message exactly, as a TLS server requires.
        var extensionsEnd = position + 2 + BinaryPrimitives.ReadUInt16BigEndian(body[position..]);
        if (extensionsEnd != body.Length)
        {
            return false;
        }

        position += 2;
        while (position + 4 <= extensionsEnd)
        {
            var type = BinaryPrimitives.ReadUInt16BigEndian(body[position..]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(body[(position + 2)..]);
            position += 4;
            if (position + length > extensionsEnd)
            {
                return false;
            }

            if (type == 0)
            {
                // A second server_name is read on: a server that takes the last one would be reached past the name decided.
                if (serverName is not null)
                {
                    serverName = null;
                    problem = "it has two server_name extensions";
                    return false;
                }

                if (!TryReadServerName(body.Slice(position, length), out serverName, out problem))
                {
                    return false;
                }
            }

            position += length;
        }

        return true;
    }

    /// <summary>
    /// The server_name extension: a list holding one host_name entry and nothing else, as OpenSSL requires, whose name
    /// is a host name. Anything else is no name to decide, and a server may still read one out of it.
    /// </summary>
    private static bool TryReadServerName(ReadOnlySpan<byte> extension, out string? serverName, out string? problem)
    {
        serverName = null;
        if (extension.Length < 5
            || BinaryPrimitives.ReadUInt16BigEndian(extension) != extension.Length - 2
            || extension[2] != 0
            || BinaryPrimitives.ReadUInt16BigEndian(extension[3..]) != extension.Length - 5)
        {
            problem = "its server_name extension is not one host name";
            return false;
        }

        var name = extension[5..];
        if (name.Length > 1 && name[^1] == (byte)'.')
        {
            name = name[..^1];
        }

        if (!DomainName.IsHostName(name))
        {
            problem = "its server name is not a valid host name";
            return false;
        }

        problem = null;
        serverName = Encoding.ASCII.GetString(name).ToLowerInvariant();
        return true;
    }

    private static bool Skip(ReadOnlySpan<byte> body, ref int position, int lengthBytes)
    {
        if (position + lengthBytes > body.Length)
        {
            return false;
        }

        var length = lengthBytes switch
        {
            1 => body[position],
            _ => BinaryPrimitives.ReadUInt16BigEndian(body[position..]),
        };
        position += lengthBytes + length;
        return position <= body.Length;
    }
}

/// <summary>
/// Reads a flow's ClientHello as its bytes arrive: given the first bytes again each time more have come (nothing
/// consumed), it takes each whole record once, so a ClientHello sent a byte at a time costs no more than one sent whole.
/// </summary>
public sealed class ClientHelloReader
{
    // The handshake message, put together from the records' fragments; most ClientHellos are one record.
    private ArrayBufferWriter<byte>? _message;
    private long _position;
    private ClientHelloStatus _status = ClientHelloStatus.NeedMore;
    private string? _serverName;

    /// <summary>What makes the ClientHello unreadable, in words, when it is <see cref="ClientHelloStatus.Malformed"/> for a reason worth telling; else null.</summary>
    public string? Problem { get; private set; }

    /// <summary>Reads on from where the last call stopped.</summary>
    /// <param name="data">The flow's first bytes, all of them so far: those of the last call and more.</param>
    /// <param name="serverName">The SNI host name, lower-cased, when found.</param>
    public ClientHelloStatus Read(ReadOnlySequence<byte> data, out string? serverName)
    {
        if (_status == ClientHelloStatus.NeedMore)
        {
            _status = ReadOn(data);
        }

        serverName = _serverName;
        return _status;
    }

    private ClientHelloStatus ReadOn(ReadOnlySequence<byte> data)
    {
        if (_position == 0)
        {
            if (data.IsEmpty)
            {
                return ClientHelloStatus.NeedMore;
            }

            Span<byte> start = stackalloc byte[2];
            var known = (int)Math.Min(start.Length, data.Length);
            data.Slice(0, known).CopyTo(start);
            if (!ClientHello.IsRecordType(start[0]) || (known == 2 && start[1] != 0x03))
            {
                return ClientHelloStatus.NotTls;
            }

            if (known < 2)
            {
                return ClientHelloStatus.NeedMore;
            }

            if (start[0] != ClientHello.HandshakeRecord)
            {
                Problem = $"its first record is {RecordName(start[0])}, not a handshake";
                return ClientHelloStatus.Malformed;
            }
        }

        var message = _message ??= new ArrayBufferWriter<byte>(512);
        Span<byte> header = stackalloc byte[ClientHello.RecordHeaderBytes];
        while (true)
        {
            if (message.WrittenCount >= 4)
            {
                var messageLength = 4 + ((message.WrittenSpan[1] << 16) | (message.WrittenSpan[2] << 8) | message.WrittenSpan[3]);
                if (message.WrittenSpan[0] != ClientHello.ClientHelloMessage || messageLength > ClientHello.MaxMessageBytes)
                {
                    return ClientHelloStatus.Malformed;
                }

                if (message.WrittenCount >= messageLength)
                {
                    var parsed = ClientHello.Parse(message.WrittenSpan[..messageLength], out _serverName, out var problem);
                    Problem = problem;
                    return parsed ? ClientHelloStatus.Found : ClientHelloStatus.Malformed;
                }
            }

            if (data.Length - _position < ClientHello.RecordHeaderBytes)
            {
                return _position + ClientHello.RecordHeaderBytes > ClientHello.MaxBytes ? ClientHelloStatus.Malformed : ClientHelloStatus.NeedMore;
            }

            data.Slice(_position, ClientHello.RecordHeaderBytes).CopyTo(header);
            var length = BinaryPrimitives.ReadUInt16BigEndian(header[3..]);
            if (header[0] != ClientHello.HandshakeRecord || header[1] != 0x03 || length == 0 || length > ClientHello.MaxRecordBytes
                || _position + ClientHello.RecordHeaderBytes + length > ClientHello.MaxBytes)
            {
                return ClientHelloStatus.Malformed;
            }

            if (data.Length - _position - ClientHello.RecordHeaderBytes < length)
            {
                return ClientHelloStatus.NeedMore;
            }

            data.Slice(_position + ClientHello.RecordHeaderBytes, length).CopyTo(message.GetSpan(length));
            message.Advance(length);
            _position += ClientHello.RecordHeaderBytes + length;
        }
    }

    private static string RecordName(byte type) => type switch
    {
        0x14 => "a ChangeCipherSpec",
        0x15 => "an alert",
        0x17 => "application data",
        _ => "a heartbeat",
    };
}
