using System.Security.Cryptography.X509Certificates;
using Gatehouse.Trust.Certificates;

namespace Gatehouse.Edge.Identities;

/// <summary>
/// Who may open a tunnel: certificates the tenant CA signed, of the tenant's devices (and connectors),
/// not revoked. The CA and the revocations come from the bundle (<c>ca</c>, <c>revoked</c>). Immutable and
/// shared by concurrent handshakes, so the CA certificate is left to the collector when a newer bundle replaces it.
/// </summary>
public sealed class TenantTrust
{
    private readonly X509Certificate2? _ca;
    private readonly HashSet<string> _revoked;
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<X509Certificate2, ChainResult> _chains = [];

    /// <summary>Creates the trust of one tenant.</summary>
    /// <param name="tenantId">The tenant.</param>
    /// <param name="ca">The tenant CA, or null when the bundle has none (then nothing is trusted).</param>
    /// <param name="revokedSubjectIds">Subject ids (device, edge or connector ids) refused whatever their serial.</param>
    public TenantTrust(string tenantId, X509Certificate2? ca, IEnumerable<string> revokedSubjectIds)
    {
        TenantId = tenantId;
        _ca = ca;
        _revoked = new HashSet<string>(revokedSubjectIds, StringComparer.Ordinal);
    }

    /// <summary>Trusts nobody.</summary>
    public static TenantTrust None { get; } = new(string.Empty, null, []);

    /// <summary>The tenant id.</summary>
    public string TenantId { get; }

    /// <summary>Whether <paramref name="subjectId"/> (a device, edge or connector id) is revoked.</summary>
    public bool IsRevoked(string subjectId) => _revoked.Contains(subjectId);

    /// <summary>How many subjects are revoked.</summary>
    public int RevokedCount => _revoked.Count;

    /// <summary>
    /// Checks a client certificate: chains to the tenant CA (and only to it), is valid now, names this
    /// tenant and a device or connector, and is not revoked.
    /// </summary>
    /// <param name="certificate">The client's certificate.</param>
    /// <param name="now">The time to check validity at.</param>
    /// <param name="identity">The certificate's identity when accepted.</param>
    /// <param name="reason">Why it was refused, in plain words.</param>
    /// <returns>True when accepted.</returns>
    public bool Validate(X509Certificate2? certificate, DateTimeOffset now, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CertificateIdentity? identity, out string reason)
    {
        identity = null;
        if (certificate is null)
        {
            reason = "no client certificate";
            return false;
        }

        if (_ca is null)
        {
            reason = "this edge has no tenant CA yet (no config bundle)";
            return false;
        }

        if (now < certificate.NotBefore.ToUniversalTime() || now > certificate.NotAfter.ToUniversalTime())
        {
            reason = "the certificate is expired or not yet valid";
            return false;
        }

        // A connection presents the same certificate object on every stream: its chain is built once per
        // trust (a new bundle brings a new TenantTrust), not once per flow. The dates and the revocation list
        // are checked every time.
        var checkedOnce = _chains.GetValue(certificate, c => new ChainResult(SignedByCa(c, now), CertificateIdentity.FromCertificate(c)));
        if (!checkedOnce.SignedByCa)
        {
            reason = "the certificate is not signed by this tenant's CA";
            return false;
        }

        var parsed = checkedOnce.Identity;
        if (parsed is null)
        {
            reason = "the certificate carries no Gatehouse identity";
            return false;
        }

        if (parsed.TenantId != TenantId)
        {
            reason = "the certificate belongs to another tenant";
            return false;
        }

        if (parsed.Kind is not (IdentityKinds.Device or IdentityKinds.Connector))
        {
            reason = $"a {parsed.Kind} certificate may not open tunnels";
            return false;
        }

        if (_revoked.Contains(parsed.SubjectId))
        {
            reason = $"{parsed.Kind} {parsed.SubjectId} is revoked";
            return false;
        }

        identity = parsed;
        reason = string.Empty;
        return true;
    }

    private bool SignedByCa(X509Certificate2 certificate, DateTimeOffset now)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_ca!);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        return chain.Build(certificate);
    }

    private sealed record ChainResult(bool SignedByCa, CertificateIdentity? Identity);
}
