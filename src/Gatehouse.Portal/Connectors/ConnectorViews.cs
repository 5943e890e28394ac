using Gatehouse.Wire.Api;

namespace Gatehouse.Portal.Connectors;

/// <summary>Connector to API view mappings.</summary>
public static class ConnectorViews
{
    /// <summary>
    /// The API view of a connector. A revoked one shows no health: its last report lists links and flows the edges
    /// closed when it was revoked, and it can report no more.
    /// </summary>
    public static ConnectorDto ToDto(this Connector c) =>
        new(c.Id, c.Name, c.ConnectorGroupId, c.Status, c.CertificateSerial, c.CertificateNotAfter, c.EnrolledAt, c.LastSeenAt, c.Status == DeviceStatuses.Active ? c.Health : null);
}
