namespace Gatehouse.Portal.Enrollment;

/// <summary>
/// A device, edge or connector: something that enrolled with a secret and now authenticates with
/// one current certificate. Renewal replaces the serial; revocation ends it for good.
/// </summary>
public interface IEnrolledSubject : Storage.ITenantOwned
{
    /// <summary>Stable id; the subject part of the certificate identity.</summary>
    Guid Id { get; }

    /// <summary>One of <see cref="Wire.Api.DeviceStatuses"/>.</summary>
    string Status { get; set; }

    /// <summary>Serial (lowercase hex) of the one certificate that currently authenticates the subject.</summary>
    string CertificateSerial { get; set; }

    /// <summary>SHA-256 of the current certificate's DER.</summary>
    string CertificateThumbprint { get; set; }

    /// <summary>When the current certificate expires.</summary>
    DateTimeOffset CertificateNotAfter { get; set; }

    /// <summary>Last authenticated request.</summary>
    DateTimeOffset? LastSeenAt { get; set; }

    /// <summary>When the subject was revoked.</summary>
    DateTimeOffset? RevokedAt { get; set; }
}
