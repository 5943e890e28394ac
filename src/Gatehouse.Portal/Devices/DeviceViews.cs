using Gatehouse.Wire.Api;

namespace Gatehouse.Portal.Devices;

/// <summary>Device to API view mappings; views never carry secrets.</summary>
public static class DeviceViews
{
    /// <summary>The API view of a device, with its user's email when known.</summary>
    public static DeviceDto ToDto(this Device d, string? userEmail) =>
        new(d.Id, d.Name, d.UserId, userEmail, d.Os, d.AgentVersion, d.Status, d.CertificateSerial, d.CertificateNotAfter, d.EnrolledAt, d.LastSeenAt, d.RevokedAt);
}
