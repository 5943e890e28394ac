using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Trust.Certificates;

/// <summary>
/// Who a Gatehouse certificate belongs to, carried as the URI subject alternative name
/// <c>gatehouse://{tenantId}/{kind}/{subjectId}</c>.
/// </summary>
/// <param name="TenantId">The tenant id: 1 to 64 of <c>a-z</c>, <c>0-9</c> and <c>-</c>.</param>
/// <param name="Kind">One of <see cref="IdentityKinds"/>.</param>
/// <param name="SubjectId">The device, edge or connector id: 1 to 64 of <c>a-z</c>, <c>0-9</c> and <c>-</c>.</param>
public sealed record CertificateIdentity(string TenantId, string Kind, string SubjectId)
{
    /// <summary>The URI scheme of identities.</summary>
    public const string Scheme = "gatehouse";

    private const string SubjectAlternativeNameOid = "2.5.29.17";
    private static readonly Asn1Tag UriTag = new(TagClass.ContextSpecific, 6);

    /// <summary>The tenant id.</summary>
    public string TenantId { get; init; } = IsValidId(TenantId) ? TenantId : throw new ArgumentException($"\"{TenantId}\" is not a valid tenant id ([a-z0-9-], 1 to 64 characters).", nameof(TenantId));

    /// <summary>The kind of subject.</summary>
    public string Kind { get; init; } = IdentityKinds.IsKnown(Kind) ? Kind : throw new ArgumentException($"\"{Kind}\" is not device, edge or connector.", nameof(Kind));

    /// <summary>The subject id.</summary>
    public string SubjectId { get; init; } = IsValidId(SubjectId) ? SubjectId : throw new ArgumentException($"\"{SubjectId}\" is not a valid subject id ([a-z0-9-], 1 to 64 characters).", nameof(SubjectId));

    /// <summary>Whether <paramref name="id"/> is a valid tenant or subject id: 1 to 64 of <c>a-z</c>, <c>0-9</c> and <c>-</c>.</summary>
    /// <param name="id">The value to check.</param>
    /// <returns><see langword="true"/> when valid.</returns>
    public static bool IsValidId(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 64)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c != '-')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Reads the identity from a certificate's URI subject alternative names.</summary>
    /// <param name="certificate">The certificate.</param>
    /// <returns>The identity, or <see langword="null"/> when there is none, more than one, or it is not valid.</returns>
    public static CertificateIdentity? FromCertificate(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        CertificateIdentity? found = null;
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != SubjectAlternativeNameOid)
            {
                continue;
            }

            try
            {
                var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER);
                var names = reader.ReadSequence();
                reader.ThrowIfNotEmpty();
                while (names.HasData)
                {
                    var tag = names.PeekTag();
                    if (!tag.HasSameClassAndValue(UriTag))
                    {
                        names.ReadEncodedValue();
                        continue;
                    }

                    var uri = names.ReadCharacterString(UniversalTagNumber.IA5String, tag);
                    if (!uri.StartsWith(Scheme + "://", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    // Two Gatehouse identities in one certificate is ambiguous: trust neither.
                    if (found is not null || !TryParse(uri, out found))
                    {
                        return null;
                    }
                }
            }
            catch (AsnContentException)
            {
                return null;
            }
        }

        return found;
    }

    /// <summary>Parses <c>gatehouse://{tenantId}/{kind}/{subjectId}</c>.</summary>
    /// <param name="uri">The URI text.</param>
    /// <param name="identity">The identity when the text is valid.</param>
    /// <returns><see langword="true"/> when the text is a valid identity.</returns>
    public static bool TryParse(string? uri, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CertificateIdentity? identity)
    {
        identity = null;
        const string prefix = Scheme + "://";
        if (uri is null || !uri.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = uri[prefix.Length..].Split('/');
        if (parts.Length != 3 || !IsValidId(parts[0]) || !IdentityKinds.IsKnown(parts[1]) || !IsValidId(parts[2]))
        {
            return false;
        }

        identity = new CertificateIdentity(parts[0], parts[1], parts[2]);
        return true;
    }

    /// <summary>The identity as a URI: <c>gatehouse://{tenantId}/{kind}/{subjectId}</c>.</summary>
    /// <returns>The URI.</returns>
    public Uri ToUri() => new(ToUriString(), UriKind.Absolute);

    /// <summary>The identity as URI text, exactly as it is written into certificates.</summary>
    /// <returns>The text <c>gatehouse://{tenantId}/{kind}/{subjectId}</c>.</returns>
    public string ToUriString() => $"{Scheme}://{TenantId}/{Kind}/{SubjectId}";

    /// <summary>The subject alternative name extension that carries this identity.</summary>
    internal X509Extension ToSubjectAlternativeName()
    {
        // Written by hand rather than with SubjectAlternativeNameBuilder.AddUri, which goes through
        // System.Uri and could rewrite a host such as an all-digit tenant id.
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteCharacterString(UniversalTagNumber.IA5String, ToUriString(), UriTag);
        }

        return new X509Extension(SubjectAlternativeNameOid, writer.Encode(), critical: false);
    }
}
