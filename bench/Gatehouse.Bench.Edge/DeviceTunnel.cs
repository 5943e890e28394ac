using System.Security.Cryptography.X509Certificates;
using Gatehouse.Trust.Certificates;
using Gatehouse.Tunnel;

namespace Gatehouse.Bench.Edge;

/// <summary>A tunnel client for a device whose certificate and key are PEM files, as <c>openssl</c> makes them.</summary>
internal static class DeviceTunnel
{
    /// <param name="args">The device's files: <c>--edge</c>, <c>--cert</c>, <c>--key</c>, <c>--ca</c>.</param>
    /// <param name="offerRelay">Whether its flows offer to be relayed end to end, as the agent's do.</param>
    public static TunnelClient Create(BenchArguments args, bool offerRelay = false)
    {
        var certificate = X509Certificate2.CreateFromPemFile(args.Text("cert"), args.Text("key"));
        var tenantCa = X509Certificate2.CreateFromPem(File.ReadAllText(args.Text("ca")));
        var identity = CertificateIdentity.FromCertificate(certificate)
            ?? throw new ArgumentException($"--cert: {args.Text("cert")} carries no Gatehouse identity");
        return new TunnelClient(args.Text("edge"), certificate, tenantCa, identity.TenantId) { OfferRelay = offerRelay };
    }
}
