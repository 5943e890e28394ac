using Gatehouse.Wire.Api;

namespace Gatehouse.Portal.Connectors;

/// <summary>Connector to API view mappings.</summary>
public static class ConnectorViews
{
    /// <summary>The API view of a connector.</summary>
    public static ConnectorDto ToDto(this Connector c) =>
        new(c.Id, c.Name, c.ConnectorGroupId, c.Status, c.CertificateSerial, c.CertificateNotAfter, c.EnrolledAt, c.LastSeenAt, c.Health);
}
