using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Portal.Hosting;

/// <summary>
/// The portal's HTTPS certificate: <c>tls.crt</c> and <c>tls.key</c> in the data directory, made
/// self-signed on first start unless an operator put their own there. Clients trust it by file
/// (<c>gatehouse login --ca-file …/tls.crt</c>).
/// </summary>
public static class PortalTlsCertificate
{
    /// <summary>The certificate file name in the data directory.</summary>
    public const string CertificateFile = "tls.crt";

    /// <summary>The private key file name in the data directory.</summary>
    public const string KeyFile = "tls.key";

    /// <summary>Loads the certificate with its key, making a self-signed one first if none exists.</summary>
    public static X509Certificate2 LoadOrCreate(string dataDirectory)
    {
        var certPath = Path.Combine(dataDirectory, CertificateFile);
        var keyPath = Path.Combine(dataDirectory, KeyFile);
        if (!File.Exists(certPath) || !File.Exists(keyPath))
        {
            Create(certPath, keyPath);
        }

        using var pem = X509Certificate2.CreateFromPemFile(certPath, keyPath);
        // Kestrel on Linux needs the key in an exportable PKCS#12 form, not an ephemeral one.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    private static void Create(string certPath, string keyPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(certPath)!);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Gatehouse portal", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        names.AddDnsName(Dns.GetHostName());
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(5));

        WriteOwnerOnly(keyPath, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
    }

    private static void WriteOwnerOnly(string path, string content)
    {
        var temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temp, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
        }

        File.Move(temp, path, overwrite: true);
    }
}
