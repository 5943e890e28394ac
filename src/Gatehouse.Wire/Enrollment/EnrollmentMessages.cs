using System.Text.Json.Serialization;

namespace Gatehouse.Wire.Enrollment;

/// <summary>
/// A device asks for its certificate: the key pair was made on the device and only the CSR
/// (PKCS#10, PEM) leaves it. <c>POST /api/v1/enroll/device</c>.
/// </summary>
/// <remarks>Unknown fields are skipped, not refused: a node newer than its portal may add one (docs/operations.md, "Upgrading").</remarks>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record DeviceEnrollRequest(string Token, string CsrPem, string Name, string Os, string AgentVersion);

/// <summary>
/// An edge or connector asks for its certificate with a provisioning key.
/// <c>POST /api/v1/enroll/edge</c> (with <see cref="Address"/>, where agents reach it) or <c>/enroll/connector</c>.
/// </summary>
/// <remarks>Unknown fields are skipped, not refused: a node newer than its portal may add one (docs/operations.md, "Upgrading").</remarks>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record ServiceEnrollRequest(string ProvisioningKey, string CsrPem, string Name, string? Address);

/// <summary>A certificate holder renews before expiry, authenticated by its current certificate. <c>POST /api/v1/enroll/renew</c>.</summary>
/// <remarks>Unknown fields are skipped, not refused: a node newer than its portal may add one (docs/operations.md, "Upgrading").</remarks>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record RenewRequest(string CsrPem);

/// <summary>
/// What an enrolled party needs to run: its certificate, the tenant CA to trust, and the public key
/// that signs its config bundles.
/// </summary>
public sealed record EnrollResponse(
    Guid TenantId,
    string Kind,
    Guid SubjectId,
    string CertificatePem,
    string CaCertificatePem,
    string ConfigKeyPublicPem,
    DateTimeOffset NotAfter,
    string ConfigPath);
