using System.Security.Cryptography.X509Certificates;
using Gatehouse.Trust.Certificates;
using Gatehouse.Tunnel;

namespace Gatehouse.Bench.Edge;

/// <summary>A tunnel client for a device whose certificate and key are PEM files, as <c>openssl</c> makes them.</summary>
internal static class DeviceTunnel
{
    public static TunnelClient Create(BenchArguments args)
    {
        var certificate = X509Certificate2.CreateFromPemFile(args.Text("cert"), args.Text("key"));
        var tenantCa = X509Certificate2.CreateFromPem(File.ReadAllText(args.Text("ca")));
        var identity = CertificateIdentity.FromCertificate(certificate)
            ?? throw new ArgumentException($"--cert: {args.Text("cert")} carries no Gatehouse identity");
        return new TunnelClient(args.Text("edge"), certificate, tenantCa, identity.TenantId);
    }
}
