namespace Gatehouse.Wire.Api;

/// <summary>Device status values.</summary>
public static class DeviceStatuses
{
    /// <summary>Enrolled and allowed.</summary>
    public const string Active = "active";
    /// <summary>Refused everywhere; listed in the edges' bundle.</summary>
    public const string Revoked = "revoked";
}

/// <summary>An enrolled endpoint.</summary>
public sealed record DeviceDto(
    Guid Id,
    string Name,
    Guid? UserId,
    string? UserEmail,
    string Os,
    string AgentVersion,
    string Status,
    string CertificateSerial,
    DateTimeOffset CertificateNotAfter,
    DateTimeOffset EnrolledAt,
    DateTimeOffset? LastSeenAt,
    DateTimeOffset? RevokedAt);

/// <summary>An enrollment token as listed; the secret is shown only when created.</summary>
public sealed record EnrollmentTokenDto(Guid Id, string Description, Guid? UserId, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, int MaxUses, int UseCount, bool Revoked);

/// <summary>Creates an enrollment token, optionally bound to a user.</summary>
public sealed record CreateEnrollmentTokenRequest(string? Description = null, Guid? UserId = null, int? ExpiresInHours = null, int? MaxUses = null);

/// <summary>The new token; <see cref="Token"/> is shown once.</summary>
public sealed record CreateEnrollmentTokenResponse(EnrollmentTokenDto EnrollmentToken, string Token);

/// <summary>An enrolled service edge.</summary>
public sealed record EdgeDto(Guid Id, string Name, string Address, string Status, string CertificateSerial, DateTimeOffset CertificateNotAfter, DateTimeOffset EnrolledAt, DateTimeOffset? LastSeenAt);

/// <summary>An enrolled app connector.</summary>
public sealed record ConnectorDto(Guid Id, string Name, Guid ConnectorGroupId, string Status, string CertificateSerial, DateTimeOffset CertificateNotAfter, DateTimeOffset EnrolledAt, DateTimeOffset? LastSeenAt, ConnectorHealthDto? Health = null);

/// <summary>The last report a connector sent the portal.</summary>
/// <param name="ReportedAt">When the portal received it.</param>
/// <param name="ActiveFlows">Flows open through the connector then.</param>
/// <param name="Edges">The edges it held links to.</param>
/// <param name="Servers">Its last health check of each app server.</param>
public sealed record ConnectorHealthDto(DateTimeOffset ReportedAt, int ActiveFlows, IReadOnlyList<string> Edges, IReadOnlyList<Tunnel.ServerHealthDto> Servers);

/// <summary>Kinds of provisioning key.</summary>
public static class ProvisioningKinds
{
    /// <summary>Enrolls service edges.</summary>
    public const string Edge = "edge";
    /// <summary>Enrolls app connectors into one connector group.</summary>
    public const string Connector = "connector";

    /// <summary>All kinds.</summary>
    public static readonly IReadOnlyList<string> All = [Edge, Connector];
}

/// <summary>A provisioning key as listed; the secret is shown only when created.</summary>
public sealed record ProvisioningKeyDto(Guid Id, string Name, string Kind, Guid? ConnectorGroupId, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, int MaxUses, int UseCount, bool Revoked);

/// <summary>Creates a provisioning key; a connector key names its connector group.</summary>
public sealed record CreateProvisioningKeyRequest(string Name, string Kind, Guid? ConnectorGroupId = null, int? ExpiresInDays = null, int? MaxUses = null);

/// <summary>The new key; <see cref="Key"/> is shown once.</summary>
public sealed record CreateProvisioningKeyResponse(ProvisioningKeyDto ProvisioningKey, string Key);
