using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Cli.Connection;

/// <summary>
/// Decides which portal certificates to accept. With a CA file, exactly the certificates in it
/// are roots of trust (the system store is not consulted); with none, the system store; with
/// <c>--insecure</c>, anything. Remembers why it refused, for the error message.
/// </summary>
internal sealed class PortalTrust
{
    private readonly X509Certificate2Collection? _roots;
    private readonly bool _insecure;

    private PortalTrust(X509Certificate2Collection? roots, bool insecure)
    {
        _roots = roots;
        _insecure = insecure;
    }

    /// <summary>Why the last certificate was refused, or null.</summary>
    public string? LastRefusal { get; private set; }

    /// <summary>The trust for one connection's settings; reads the CA file now so a bad path fails early.</summary>
    public static PortalTrust For(ConnectionSettings settings)
    {
        if (settings.Insecure)
        {
            return new PortalTrust(null, insecure: true);
        }
        if (settings.CaFile is null)
        {
            return new PortalTrust(null, insecure: false);
        }
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(settings.CaFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new CliException(ExitCodes.BadInput, $"cannot read CA file {settings.CaFile}: {e.Message}", inner: e);
        }
        if (roots.Count == 0)
        {
            throw new CliException(ExitCodes.BadInput, $"CA file {settings.CaFile} holds no PEM certificate");
        }
        return new PortalTrust(roots, insecure: false);
    }

    /// <summary>The TLS callback for <see cref="SslClientAuthenticationOptions.RemoteCertificateValidationCallback"/>.</summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        if (_insecure)
        {
            return true;
        }
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            LastRefusal = "the portal presented no certificate";
            return false;
        }
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            LastRefusal = "the portal's certificate is not issued for this host name";
            return false;
        }
        if (_roots is null)
        {
            if (errors == SslPolicyErrors.None)
            {
                return true;
            }
            LastRefusal = "the portal's certificate is not trusted by this system (pass --ca-file with the portal's CA)";
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (chain.Build(leaf))
        {
            return true;
        }
        var status = string.Join(", ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        LastRefusal = $"the portal's certificate does not chain to the CA file ({status})";
        return false;
    }
}
