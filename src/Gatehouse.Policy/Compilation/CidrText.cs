using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Policy.Compilation;

/// <summary>A network in CIDR notation; a bare address is one host (/32 or /128). Host bits are cleared (<c>10.0.0.1/8</c> is <c>10.0.0.0/8</c>).</summary>
internal static class CidrText
{
    public static bool TryParse(string? text, out IPNetwork network)
    {
        var value = (text ?? "").Trim();
        if (!value.Contains('/', StringComparison.Ordinal) && IPAddress.TryParse(value, out var single))
        {
            network = new IPNetwork(single, single.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        if (!IPNetwork.TryParse(value, out var parsed))
        {
            network = default;
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        parsed.BaseAddress.TryWriteBytes(bytes, out var written);
        for (var bit = parsed.PrefixLength; bit < written * 8; bit++)
        {
            bytes[bit >> 3] &= (byte)~(0x80 >> (bit & 7));
        }

        network = new IPNetwork(new IPAddress(bytes[..written]), parsed.PrefixLength);
        return true;
    }

    public static string Reason(string? text) => $"'{text}' is not a CIDR network (an address and a prefix length, for example 10.0.0.0/8 or 2001:db8::/32)";
}
