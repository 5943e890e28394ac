using System.Security.Cryptography;
using System.Text;
using Gatehouse.Wire.Dr;

namespace Gatehouse.Trust.Dr;

/// <summary>Why a DR record was or was not taken.</summary>
public enum DrRecordStatus
{
    /// <summary>Signed by the tenant's DR key, for this tenant, not older than the last seen, not expired.</summary>
    Valid,

    /// <summary>Not a DR record, or not well formed.</summary>
    Malformed,

    /// <summary>The signature is not the tenant's DR key's.</summary>
    BadSignature,

    /// <summary>Signed for another tenant.</summary>
    WrongTenant,

    /// <summary>Older than a record already seen.</summary>
    OlderVersion,

    /// <summary>Past its expiry, or issued in the future.</summary>
    Expired,
}

/// <summary>The outcome of checking a DR record.</summary>
/// <param name="Status">What was found.</param>
/// <param name="Record">The record, when it could be read.</param>
/// <param name="Reason">In plain words, for logs and status.</param>
public sealed record DrRecordVerification(DrRecordStatus Status, DrRecord? Record, string Reason)
{
    /// <summary>Whether the record may be acted on.</summary>
    public bool IsValid => Status == DrRecordStatus.Valid;
}

/// <summary>Signs and checks DR records with the tenant's DR key (ECDSA P-256).</summary>
public static class DrRecordSigning
{
    /// <summary>How far a record's issue time may be ahead of the device's clock.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>Signs a record.</summary>
    /// <param name="record">The record.</param>
    /// <param name="key">The tenant's DR key (private).</param>
    /// <returns>The TXT record's text.</returns>
    /// <exception cref="ArgumentException">The key is not P-256, or the record would not read back (a state or mode that does not exist, a negative version, an expiry before its issue time).</exception>
    public static string Sign(DrRecord record, ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(key);
        if (!P256.Is(key))
        {
            throw new ArgumentException("a DR key is an ECDSA P-256 key", nameof(key));
        }

        var text = record.WithSignature(key.SignData(Encoding.ASCII.GetBytes(record.SignedText), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));

        // Nothing is published that a device would refuse as malformed.
        return DrRecord.TryParse(text, out _, out _, out _, out var error) ? text : throw new ArgumentException($"the record cannot be signed: {error}", nameof(record));
    }

    /// <summary>Checks a TXT record's text against the tenant's DR public key.</summary>
    /// <param name="text">The record's text.</param>
    /// <param name="publicKeySpki">The DR public key (SubjectPublicKeyInfo, DER).</param>
    /// <param name="tenantId">The device's tenant.</param>
    /// <param name="lastVersion">The newest version already taken, if any; an equal version is taken again.</param>
    /// <param name="now">The time.</param>
    /// <returns>The verification.</returns>
    public static DrRecordVerification Verify(string text, ReadOnlySpan<byte> publicKeySpki, Guid tenantId, long? lastVersion, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!DrRecord.TryParse(text, out var record, out var signed, out var signature, out var error))
        {
            return new(DrRecordStatus.Malformed, null, error!);
        }

        using (var key = ECDsa.Create())
        {
            try
            {
                key.ImportSubjectPublicKeyInfo(publicKeySpki, out _);
            }
            catch (CryptographicException e)
            {
                return new(DrRecordStatus.BadSignature, record, $"the DR public key cannot be read: {e.Message}");
            }

            if (!P256.Is(key))
            {
                return new(DrRecordStatus.BadSignature, record, "the DR public key is not an ECDSA P-256 key");
            }

            if (!key.VerifyData(Encoding.ASCII.GetBytes(signed), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            {
                return new(DrRecordStatus.BadSignature, record, "the record is not signed by this tenant's DR key");
            }
        }

        if (record!.TenantId != tenantId)
        {
            return new(DrRecordStatus.WrongTenant, record, $"the record is for tenant {record.TenantId}, not {tenantId}");
        }

        if (record.Version < lastVersion)
        {
            return new(DrRecordStatus.OlderVersion, record, $"version {record.Version} is older than version {lastVersion}, already seen");
        }

        if (now >= record.Expires || record.Issued > now + ClockSkew)
        {
            return new(DrRecordStatus.Expired, record, now >= record.Expires ? $"the record expired at {record.Expires:u}" : $"the record is issued in the future ({record.Issued:u})");
        }

        return new(DrRecordStatus.Valid, record, $"version {record.Version}: state {record.State}, mode {record.Mode}, until {record.Expires:u}");
    }
}
