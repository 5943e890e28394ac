using Gatehouse.Wire.Api;

namespace Gatehouse.Portal.Connectors;

/// <summary>An enrolled app connector: its certificate identity is <c>gatehouse://{tenant}/connector/{id}</c>.</summary>
public sealed class Connector : Enrollment.IEnrolledSubject
{
    /// <summary>Stable id; also the subject of the connector certificate.</summary>
    public Guid Id { get; set; }

    /// <summary>The owning tenant.</summary>
    public Guid TenantId { get; set; }

    /// <summary>A name to recognise it by.</summary>
    public required string Name { get; set; }

    /// <summary>The connector group named by the provisioning key it enrolled with.</summary>
    public Guid ConnectorGroupId { get; set; }

    /// <summary>One of <see cref="Wire.Api.DeviceStatuses"/> (connectors share the device status values).</summary>
    public required string Status { get; set; }

    /// <summary>Serial (lowercase hex) of the one certificate that currently authenticates the connector.</summary>
    public required string CertificateSerial { get; set; }

    /// <summary>SHA-256 of the current certificate's DER.</summary>
    public required string CertificateThumbprint { get; set; }

    /// <summary>When the current certificate expires.</summary>
    public DateTimeOffset CertificateNotAfter { get; set; }

    /// <summary>The provisioning key used.</summary>
    public Guid? ProvisioningKeyId { get; set; }

    /// <summary>When the connector enrolled.</summary>
    public DateTimeOffset EnrolledAt { get; set; }

    /// <summary>Last authenticated request (updated at most once a minute).</summary>
    public DateTimeOffset? LastSeenAt { get; set; }

    /// <summary>The last status report it sent (stored as JSON), with the time it came.</summary>
    public ConnectorHealthDto? Health { get; set; }

    /// <summary>When the connector was revoked.</summary>
    public DateTimeOffset? RevokedAt { get; set; }
}
