namespace Gatehouse.Portal.Devices;

/// <summary>An enrolled endpoint: its certificate identity is <c>gatehouse://{tenant}/device/{id}</c>.</summary>
public sealed class Device : Enrollment.IEnrolledSubject
{
    /// <summary>Stable id; also the subject of the device certificate.</summary>
    public Guid Id { get; set; }

    /// <summary>The owning tenant.</summary>
    public Guid TenantId { get; set; }

    /// <summary>The name the device reported (host name).</summary>
    public required string Name { get; set; }

    /// <summary>The user the enrollment token was bound to, if any.</summary>
    public Guid? UserId { get; set; }

    /// <summary>Operating system as reported by the agent.</summary>
    public required string Os { get; set; }

    /// <summary>Agent version as reported at enrollment.</summary>
    public required string AgentVersion { get; set; }

    /// <summary>One of <see cref="Wire.Api.DeviceStatuses"/>.</summary>
    public required string Status { get; set; }

    /// <summary>Serial (lowercase hex) of the one certificate that currently authenticates the device.</summary>
    public required string CertificateSerial { get; set; }

    /// <summary>SHA-256 of the current certificate's DER.</summary>
    public required string CertificateThumbprint { get; set; }

    /// <summary>When the current certificate expires.</summary>
    public DateTimeOffset CertificateNotAfter { get; set; }

    /// <summary>The enrollment token used, for the audit trail.</summary>
    public Guid? EnrollmentTokenId { get; set; }

    /// <summary>When the device enrolled.</summary>
    public DateTimeOffset EnrolledAt { get; set; }

    /// <summary>Last authenticated request (updated at most once a minute).</summary>
    public DateTimeOffset? LastSeenAt { get; set; }

    /// <summary>When the device was revoked.</summary>
    public DateTimeOffset? RevokedAt { get; set; }
}
