using System.Globalization;
using System.Text;
using Gatehouse.Wire.Addresses;

namespace Gatehouse.Wire.Tunnel;

/// <summary>
/// The agent tunnel protocol (agent → edge): HTTP/2 over TLS 1.3 with the device certificate, one
/// flow per stream. A stream is an extended CONNECT (RFC 8441, <c>:protocol = connect-tcp</c>) or a
/// full-duplex <c>POST</c> (whose request-body end carries the TCP half-close) to
/// <c>/.well-known/masque/tcp/{host}/{port}/</c>. The edge answers 200 and carries bytes, or refuses
/// with a status and the <see cref="RuleHeader"/>, <see cref="ReasonHeader"/> and
/// <see cref="ReferenceHeader"/> headers.
/// </summary>
public static class TunnelProtocol
{
    /// <summary>The <c>:protocol</c> pseudo-header of an extended CONNECT flow.</summary>
    public const string ConnectProtocol = "connect-tcp";

    /// <summary>The path prefix of a flow's target (RFC 9298 style URI template).</summary>
    public const string PathPrefix = "/.well-known/masque/tcp/";

    /// <summary>The agent's own id of the flow, for correlating its logs with the edge's (at most 64 of <c>[A-Za-z0-9._-]</c>).</summary>
    public const string FlowIdHeader = "gatehouse-flow-id";

    /// <summary>The network the device is on: <c>trusted</c>, <c>untrusted</c> or <c>vpn</c> (<see cref="Policy.NetworkKinds"/>).</summary>
    public const string NetworkHeader = "gatehouse-network";

    /// <summary>Posture checks that hold on the device, comma separated (for example <c>disk-encrypted,os:linux</c>).</summary>
    public const string PostureHeader = "gatehouse-posture";

    /// <summary>The address and port of the application's socket on the device, as the agent saw it.</summary>
    public const string ClientAddressHeader = "gatehouse-client-address";

    /// <summary>On a refusal: the rule that decided; absent when none did.</summary>
    public const string RuleHeader = "gatehouse-rule";

    /// <summary>On a refusal or failure: why, in plain words.</summary>
    public const string ReasonHeader = "gatehouse-reason";

    /// <summary>On a refusal or failure: the reference of the edge's record, to show the user.</summary>
    public const string ReferenceHeader = "gatehouse-reference";

    /// <summary>The most posture checks one flow may carry.</summary>
    public const int MaxPostureChecks = 32;

    /// <summary>The longest flow id, posture check or host name, in characters.</summary>
    public const int MaxTokenLength = 253;

    /// <summary>
    /// The longest a flow's path can be: the prefix, a host of <see cref="MaxTokenLength"/> characters each
    /// percent-encoded, and a port between slashes.
    /// </summary>
    public static int MaxPathLength => PathPrefix.Length + (3 * MaxTokenLength) + "/65535/".Length;

    /// <summary>The path of a flow to <paramref name="host"/>:<paramref name="port"/>; the host is percent-encoded (an IPv6 literal's colons become <c>%3A</c>).</summary>
    /// <param name="host">A host name or an address literal (IPv6 with or without brackets).</param>
    /// <param name="port">The destination port, 1 to 65535.</param>
    /// <exception cref="ArgumentException">The host is empty or longer than 253 characters.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The port is out of range.</exception>
    public static string PathFor(string host, int port)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        if (host.Length > 2 && host[0] == '[' && host[^1] == ']')
        {
            host = host[1..^1];
        }

        if (host.Length > MaxTokenLength)
        {
            throw new ArgumentException($"A host name has at most {MaxTokenLength} characters.", nameof(host));
        }

        return string.Concat(PathPrefix, Uri.EscapeDataString(host), "/", port.ToString(CultureInfo.InvariantCulture), "/");
    }

    /// <summary>
    /// Reads the destination from a request target as sent (not decoded): exactly
    /// <c>/.well-known/masque/tcp/{host}/{port}/</c>, no query. The host comes back in lower case, an
    /// IPv6 literal without brackets.
    /// </summary>
    /// <param name="rawTarget">The request's path as it came on the wire.</param>
    /// <param name="host">The host name or address literal.</param>
    /// <param name="port">The port.</param>
    /// <param name="isAddress">Whether the host is an address literal (dotted quad or IPv6).</param>
    /// <returns>False when the target is not a flow path, with nothing set.</returns>
    public static bool TryParsePath(string rawTarget, out string host, out int port, out bool isAddress)
    {
        host = string.Empty;
        port = 0;
        isAddress = false;
        if (rawTarget is null || !rawTarget.StartsWith(PathPrefix, StringComparison.Ordinal) || rawTarget.Length > MaxPathLength)
        {
            return false;
        }

        var rest = rawTarget.AsSpan(PathPrefix.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0 || rest.Length < slash + 3 || rest[^1] != '/')
        {
            return false;
        }

        var portText = rest[(slash + 1)..^1];
        if (portText.Length is 0 or > 5 || portText[0] == '0' || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
        {
            port = 0;
            return false;
        }

        if (!TryDecodeHost(rest[..slash], out var decoded))
        {
            port = 0;
            return false;
        }

        if (AddressLiteral.TryParse(decoded, out var address))
        {
            host = address.ToString();
            isAddress = true;
            return true;
        }

        if (Uri.CheckHostName(decoded) != UriHostNameType.Dns || Http.Target.IsLooseAddress(decoded))
        {
            // 127.1 or 0x7f.0.0.1 would be resolved as a name into an address no rule for its network saw.
            port = 0;
            return false;
        }

        host = decoded.ToLowerInvariant();
        return true;
    }

    private static bool TryDecodeHost(ReadOnlySpan<char> text, out string host)
    {
        host = string.Empty;
        if (text.Length is 0 or > 3 * MaxTokenLength)
        {
            return false;
        }

        var bytes = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '%')
            {
                if (i + 2 >= text.Length || !byte.TryParse(text.Slice(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value) || value < 0x21 || value > 0x7E)
                {
                    return false;
                }

                bytes.Append((char)value);
                i += 2;
            }
            else if (c is > (char)0x20 and < (char)0x7F && c is not ('/' or '?' or '#'))
            {
                bytes.Append(c);
            }
            else
            {
                return false;
            }
        }

        host = bytes.ToString();
        return host.Length is > 0 and <= MaxTokenLength;
    }

    /// <summary>Whether <paramref name="value"/> is a valid flow id or posture check: 1 to 253 of <c>[A-Za-z0-9._:-]</c>.</summary>
    /// <param name="value">The value.</param>
    public static bool IsToken(ReadOnlySpan<char> value)
    {
        if (value.Length is 0 or > MaxTokenLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-' or ':'))
            {
                return false;
            }
        }

        return true;
    }
}
