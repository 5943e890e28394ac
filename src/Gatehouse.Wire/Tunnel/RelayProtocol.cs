using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Wire.Tunnel;

/// <summary>Which end of a relayed flow a connection to the edge is.</summary>
public enum RelaySide : byte
{
    /// <summary>The agent: the TLS client, with the device certificate.</summary>
    Device = 1,

    /// <summary>The connector: the TLS server, with its connector certificate.</summary>
    Connector = 2,
}

/// <summary>
/// A private flow relayed end to end: one TLS 1.3 session between the agent and the connector, whose
/// ciphertext the edge copies without decrypting it (so the bytes are encrypted once, not once per hop).
/// </summary>
/// <remarks>
/// <code>
/// agent ── POST flow, gatehouse-relay: 1 ──► edge: access policy, picks a connector, issues a ticket
///                                             edge ── POST flow, gatehouse-relay-ticket, gatehouse-device-fingerprint ──► connector
///                                                 ◄── 200, gatehouse-relay: accepted (the app is connected)
/// agent ◄── 200, gatehouse-relay-ticket, gatehouse-connector ── edge
/// agent ── TCP to the edge's tunnel port: preamble(device, ticket) ─┐ edge pairs the two connections of one
/// connector ── TCP to the same port: preamble(connector, ticket) ──┘ ticket (once, before it expires) and copies
/// agent ◄════ TLS 1.3, mutual: the device certificate the edge named ⇄ the connector the edge named ════► connector
/// </code>
/// A preamble is <see cref="PreambleLength"/> bytes: <c>GHR1</c>, the side, the ticket. A TLS connection starts
/// with 22 (a handshake record), so one byte tells the two apart on the same port. The ticket only pairs; who is
/// at each end is proved by the end-to-end handshake, so a ticket seen on the wire lets nobody in.
/// </remarks>
public static class RelayProtocol
{
    /// <summary>Agent → edge, on a flow: <c>1</c> when the agent can take a relayed flow. Connector → edge, on a 200: <see cref="Accepted"/>.</summary>
    public const string RelayHeader = "gatehouse-relay";

    /// <summary>The value of <see cref="RelayHeader"/> with which an agent offers to take a relayed flow.</summary>
    public const string Offer = "1";

    /// <summary>The value of <see cref="RelayHeader"/> with which a connector says it will dial the edge with the ticket.</summary>
    public const string Accepted = "accepted";

    /// <summary>Edge → connector (to dial with) and edge → agent (on the 200): the flow's ticket, base64url.</summary>
    public const string TicketHeader = "gatehouse-relay-ticket";

    /// <summary>Edge → connector: the SHA-256 of the device certificate the connector must see in the handshake, hex.</summary>
    public const string DeviceFingerprintHeader = "gatehouse-device-fingerprint";

    /// <summary>Edge → agent: the id of the connector whose certificate the agent must see in the handshake.</summary>
    public const string ConnectorHeader = "gatehouse-connector";

    /// <summary>The ALPN protocol of the end-to-end TLS session.</summary>
    public const string ApplicationProtocol = "gatehouse-relay/1";

    /// <summary>Bytes in a ticket.</summary>
    public const int TicketLength = 32;

    /// <summary>Bytes in a preamble: magic, side, ticket.</summary>
    public const int PreambleLength = 4 + 1 + TicketLength;

    /// <summary>The first byte of a preamble (a TLS connection starts with 22).</summary>
    public const byte FirstByte = (byte)'G';

    private static ReadOnlySpan<byte> Magic => "GHR1"u8;

    /// <summary>A new random ticket.</summary>
    public static byte[] NewTicket() => RandomNumberGenerator.GetBytes(TicketLength);

    /// <summary>The preamble a side sends before its TLS.</summary>
    /// <param name="side">Which end sends it.</param>
    /// <param name="ticket">The ticket, <see cref="TicketLength"/> bytes.</param>
    public static byte[] Preamble(RelaySide side, ReadOnlySpan<byte> ticket)
    {
        if (ticket.Length != TicketLength)
        {
            throw new ArgumentException($"A ticket is {TicketLength} bytes.", nameof(ticket));
        }

        var preamble = new byte[PreambleLength];
        Magic.CopyTo(preamble);
        preamble[4] = (byte)side;
        ticket.CopyTo(preamble.AsSpan(5));
        return preamble;
    }

    /// <summary>Reads a preamble of exactly <see cref="PreambleLength"/> bytes; false when it is not one.</summary>
    public static bool TryParsePreamble(ReadOnlySpan<byte> bytes, out RelaySide side, out byte[] ticket)
    {
        side = default;
        ticket = [];
        if (bytes.Length != PreambleLength || !bytes[..4].SequenceEqual(Magic) || bytes[4] is not ((byte)RelaySide.Device or (byte)RelaySide.Connector))
        {
            return false;
        }

        side = (RelaySide)bytes[4];
        ticket = bytes[5..].ToArray();
        return true;
    }

    /// <summary>A ticket as a header value.</summary>
    public static string EncodeTicket(ReadOnlySpan<byte> ticket) => Base64Url.EncodeToString(ticket);

    /// <summary>A ticket from a header value; false unless it is <see cref="TicketLength"/> bytes of base64url.</summary>
    public static bool TryDecodeTicket(string? text, out byte[] ticket)
    {
        ticket = [];
        if (string.IsNullOrEmpty(text) || text.Length > 64)
        {
            return false;
        }

        // TryDecodeFromChars throws on a character outside the alphabet: header values come from the network.
        var buffer = new byte[48];
        if (Base64Url.DecodeFromChars(text, buffer, out var consumed, out var written) != System.Buffers.OperationStatus.Done || consumed != text.Length || written != TicketLength)
        {
            return false;
        }

        ticket = buffer[..TicketLength];
        return true;
    }

    /// <summary>The fingerprint of a certificate as <see cref="DeviceFingerprintHeader"/> carries it: SHA-256, lower-case hex.</summary>
    public static string Fingerprint(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
    }
}
