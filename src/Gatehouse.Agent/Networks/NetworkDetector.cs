using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Http;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Agent.Networks;

/// <summary>The outcome of one evaluation: the network kind and, in plain words, why.</summary>
/// <param name="Kind">One of <see cref="NetworkKinds"/>.</param>
/// <param name="Reason">Why, for <c>gatehouse status</c>.</param>
internal readonly record struct NetworkVerdict(string Kind, string Reason);

/// <summary>
/// Tells a trusted network by the app profile's criteria, every one of which must hold: one of the
/// DNS servers, one of the search domains (both from the resolver configuration), a host name that
/// resolves to an expected address, and a TLS beacon whose certificate has the expected SHA-256
/// fingerprint. With no criteria, no network is trusted. A VPN interface that is up makes it a VPN network.
/// </summary>
/// <param name="resolvConfPath">The resolver configuration.</param>
/// <param name="sysClassNet">Where the kernel lists the interfaces.</param>
/// <param name="socketMark">The mark of the agent's own sockets in transparent mode: the beacon is asked directly, never through an edge.</param>
internal sealed class NetworkDetector(string resolvConfPath, string sysClassNet = VpnInterfaces.DefaultSysClassNet, int? socketMark = null)
{
    /// <summary>The resolver configuration of the system.</summary>
    public const string DefaultResolvConf = "/etc/resolv.conf";

    /// <summary>How long one check (a name lookup, a beacon's TLS handshake) may take.</summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A VPN that is up decides first (its DNS servers and routes would make the trusted criteria hold
    /// through the tunnel); otherwise the trusted-network criteria.
    /// </summary>
    public async Task<NetworkVerdict> EvaluateAsync(TrustedNetworkCriteria? criteria, CancellationToken ct)
    {
        if (VpnInterfaces.FindUp(sysClassNet) is { } vpn)
        {
            return new NetworkVerdict(NetworkKinds.Vpn, $"the VPN interface {vpn} is up");
        }

        if (criteria is null || (criteria.DnsServers is not { Count: > 0 } && criteria.SearchDomains is not { Count: > 0 } && criteria.HostResolves is null && criteria.Beacon is null))
        {
            return new NetworkVerdict(NetworkKinds.Untrusted, "the app profile names no trusted network");
        }

        var (servers, domains) = ReadResolvConf();
        if (criteria.DnsServers is { Count: > 0 } wanted && !wanted.Any(w => servers.Contains(w.Trim(), StringComparer.OrdinalIgnoreCase)))
        {
            return new NetworkVerdict(NetworkKinds.Untrusted, $"no DNS server of {string.Join(", ", wanted)} is configured");
        }

        if (criteria.SearchDomains is { Count: > 0 } search && !search.Any(s => domains.Contains(s.Trim().TrimEnd('.'), StringComparer.OrdinalIgnoreCase)))
        {
            return new NetworkVerdict(NetworkKinds.Untrusted, $"no search domain of {string.Join(", ", search)} is configured");
        }

        if (criteria.HostResolves is { } resolves && !await ResolvesAsync(resolves, ct))
        {
            return new NetworkVerdict(NetworkKinds.Untrusted, $"{resolves.Host} does not resolve to {resolves.Address}");
        }

        if (criteria.Beacon is { } beacon && await BeaconFingerprintAsync(beacon.Address, ct) is var seen && !Matches(seen, beacon.Sha256))
        {
            return new NetworkVerdict(NetworkKinds.Untrusted, seen is null ? $"the beacon {beacon.Address} does not answer TLS" : $"the beacon {beacon.Address} shows another certificate");
        }

        return new NetworkVerdict(NetworkKinds.Trusted, "every criterion of the app profile holds");
    }

    /// <summary>
    /// The interfaces with their kernel flags (up, running), as one comparable string: when it changes,
    /// the network may have (a link going up raises no address event; a tun device has no carrier).
    /// Addresses are left to the address-change event: reading them every second costs more.
    /// </summary>
    public string LinkState() => VpnInterfaces.LinkFlags(sysClassNet);

    private (IReadOnlyList<string> Servers, IReadOnlyList<string> Domains) ReadResolvConf()
    {
        var conf = ResolvConf.Read(resolvConfPath);
        return (conf.Servers, conf.SearchDomains);
    }

    private static async Task<bool> ResolvesAsync(HostResolvesCheck check, CancellationToken ct)
    {
        if (!IPAddress.TryParse(check.Address, out var expected))
        {
            return false;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(CheckTimeout);
        try
        {
            var addresses = await Dns.GetHostAddressesAsync(check.Host, timeout.Token);
            return addresses.Contains(expected);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>The SHA-256 fingerprint (hex) of the certificate the beacon at HOST:PORT shows, or null when it does not answer TLS.</summary>
    private async Task<string?> BeaconFingerprintAsync(string address, CancellationToken ct)
    {
        if (!Target.TryParseAuthority(address, defaultPort: 0, out var beacon))
        {
            return null;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(CheckTimeout);
        try
        {
            using var client = new TcpClient();
            Wire.Sockets.SocketMark.ApplyIfSet(client.Client, socketMark);
            await client.ConnectAsync(beacon.Host, beacon.Port, timeout.Token);
            string? fingerprint = null;

            // The beacon is recognised by its fingerprint alone: no chain or name is checked, nothing is sent.
            await using var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false, (_, certificate, _, _) =>
            {
                fingerprint = certificate is null ? null : Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData()));
                return true;
            });
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = beacon.Host, CertificateRevocationCheckMode = X509RevocationMode.NoCheck }, timeout.Token);
            return fingerprint;
        }
        catch (Exception e) when (e is SocketException or IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return null;
        }
    }

    private static bool Matches(string? seen, string expected) =>
        seen is not null && string.Equals(seen, expected.Replace(":", string.Empty, StringComparison.Ordinal).Trim(), StringComparison.OrdinalIgnoreCase);
}
