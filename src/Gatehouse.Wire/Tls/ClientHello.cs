using System.Buffers;
using System.Buffers.Binary;
using System.Text;

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
}

/// <summary>Reads the server name (SNI, RFC 6066) out of a TLS ClientHello without decrypting anything.</summary>
public static class ClientHello
{
    /// <summary>The most bytes worth waiting for: one TLS record.</summary>
    public const int MaxBytes = 5 + 16384;

    /// <summary>Looks at the first bytes a client sent.</summary>
    /// <param name="data">The bytes so far.</param>
    /// <param name="serverName">The SNI host name, lower-cased, when found.</param>
    public static ClientHelloStatus TryReadServerName(ReadOnlySequence<byte> data, out string? serverName)
    {
        serverName = null;
        if (data.Length < 5)
        {
            return data.IsEmpty || data.FirstSpan[0] == 0x16 ? ClientHelloStatus.NeedMore : ClientHelloStatus.NotTls;
        }

        Span<byte> header = stackalloc byte[5];
        data.Slice(0, 5).CopyTo(header);
        if (header[0] != 0x16 || header[1] != 0x03)
        {
            return ClientHelloStatus.NotTls;
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(header[3..]);
        if (length > 16384)
        {
            return ClientHelloStatus.NotTls;
        }

        if (data.Length < 5 + length)
        {
            return ClientHelloStatus.NeedMore;
        }

        var record = data.Slice(5, length).ToArray();
        return Parse(record, out serverName) ? ClientHelloStatus.Found : ClientHelloStatus.NotTls;
    }

    private static bool Parse(ReadOnlySpan<byte> body, out string? serverName)
    {
        serverName = null;

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

        var extensionsEnd = Math.Min(body.Length, position + 2 + BinaryPrimitives.ReadUInt16BigEndian(body[position..]));
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
                serverName = ReadServerName(body.Slice(position, length));
                return true;
            }

            position += length;
        }

        return true;
    }

    private static string? ReadServerName(ReadOnlySpan<byte> extension)
    {
        if (extension.Length < 5 || extension[2] != 0)
        {
            return null;
        }

        var nameLength = BinaryPrimitives.ReadUInt16BigEndian(extension[3..]);
        if (5 + nameLength > extension.Length || nameLength == 0 || nameLength > 253)
        {
            return null;
        }

        var name = extension.Slice(5, nameLength);
        foreach (var b in name)
        {
            if (!(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'.' or (byte)'_'))
            {
                return null;
            }
        }

        return Encoding.ASCII.GetString(name).ToLowerInvariant();
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
