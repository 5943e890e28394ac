using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Policy.Compilation;

/// <summary>A network in CIDR notation; a bare address is one host (/32 or /128). Host bits must be zero.</summary>
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

        return IPNetwork.TryParse(value, out network);
    }

    public static string Reason(string? text) => $"'{text}' is not a CIDR network (an address and prefix length with the host bits zero, for example 10.0.0.0/8)";
}
