using System.Net;
using Gatehouse.Wire.Addresses;

namespace Gatehouse.Policy.Compilation;

/// <summary>
/// A network in CIDR notation, read strictly (<see cref="AddressLiteral.TryParseNetwork"/>): a bare address is one host
/// (/32 or /128), host bits are cleared, and octal, hex or short IPv4 spellings are refused rather than read as another network.
/// </summary>
internal static class CidrText
{
    public static bool TryParse(string? text, out IPNetwork network) => AddressLiteral.TryParseNetwork(text, out network);

    public static string Reason(string? text) => $"'{text}' is not a CIDR network (an address and a prefix length, for example 10.0.0.0/8 or 2001:db8::/32; IPv4 in four decimal parts without leading zeros)";
}
