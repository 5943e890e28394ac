namespace Gatehouse.Portal.Edges;

/// <summary>An enrolled service edge: its certificate identity is <c>gatehouse://{tenant}/edge/{id}</c>.</summary>
public sealed class Edge : Enrollment.IEnrolledSubject
{
    /// <summary>Stable id; also the subject of the edge certificate.</summary>
    public Guid Id { get; set; }

    /// <summary>The owning tenant.</summary>
    public Guid TenantId { get; set; }

    /// <summary>A name to recognise it by.</summary>
    public required string Name { get; set; }

    /// <summary><c>host:port</c> where agents and connectors reach its tunnel listener.</summary>
    public required string Address { get; set; }

    /// <summary>One of <see cref="Wire.Api.DeviceStatuses"/> (edges share the device status values).</summary>
    public required string Status { get; set; }

    /// <summary>Serial (lowercase hex) of the one certificate that currently authenticates the edge.</summary>
    public required string CertificateSerial { get; set; }

    /// <summary>SHA-256 of the current certificate's DER.</summary>
    public required string CertificateThumbprint { get; set; }

    /// <summary>When the current certificate expires.</summary>
    public DateTimeOffset CertificateNotAfter { get; set; }

    /// <summary>The provisioning key used.</summary>
    public Guid? ProvisioningKeyId { get; set; }

    /// <summary>When the edge enrolled.</summary>
    public DateTimeOffset EnrolledAt { get; set; }

    /// <summary>Last authenticated request (updated at most once a minute).</summary>
    public DateTimeOffset? LastSeenAt { get; set; }

    /// <summary>When the edge was revoked.</summary>
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>
    /// The edge follows the DR bundle (<c>gatehouse-edge run --dr</c>), as its last config request said: it enforces the
    /// DR policy, so agents never get it as an everyday edge, with DR settings or without.
    /// </summary>
    public bool FollowsDr { get; set; }
}
