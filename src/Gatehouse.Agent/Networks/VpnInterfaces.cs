using System.Globalization;

namespace Gatehouse.Agent.Networks;

/// <summary>
/// Finds a VPN that is up: an interface that is administratively up and is a point-to-point tunnel
/// (kernel type ARPHRD_NONE, which tun devices, WireGuard and xfrm interfaces have, or ARPHRD_PPP), or
/// is named like one (tun, tap, wg, ppp, ipsec, vpn). Read from <c>/sys/class/net</c>.
/// </summary>
internal static class VpnInterfaces
{
    /// <summary>Where the kernel lists the interfaces.</summary>
    public const string DefaultSysClassNet = "/sys/class/net";

    private const int ArphrdNone = 65534;
    private const int ArphrdPpp = 512;
    private const int IffUp = 0x1;

    private static readonly string[] NamePrefixes = ["tun", "tap", "wg", "ppp", "ipsec", "vpn", "utun"];

    /// <summary>The name of the first VPN interface that is up, or null.</summary>
    public static string? FindUp(string sysClassNet = DefaultSysClassNet)
    {
        IEnumerable<string> interfaces;
        try
        {
            interfaces = Directory.EnumerateDirectories(sysClassNet).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        foreach (var name in interfaces)
        {
            var flags = ReadNumber(sysClassNet, name, "flags");
            var type = ReadNumber(sysClassNet, name, "type");
            if (flags is not { } f || (f & IffUp) == 0 || name == "lo")
            {
                continue;
            }

            if (type is ArphrdNone or ArphrdPpp || NamePrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
            {
                return name;
            }
        }

        return null;
    }

    /// <summary>Every interface's name and flags, as one comparable string.</summary>
    public static string LinkFlags(string sysClassNet = DefaultSysClassNet)
    {
        try
        {
            return string.Join(';', Directory.EnumerateDirectories(sysClassNet).Order(StringComparer.Ordinal)
                .Select(d => $"{Path.GetFileName(d)}={ReadNumber(sysClassNet, Path.GetFileName(d), "flags")}"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    private static int? ReadNumber(string root, string name, string file)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(root, name, file)).Trim();
            return text.StartsWith("0x", StringComparison.Ordinal)
                ? int.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hex) ? hex : null
                : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) ? number : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
