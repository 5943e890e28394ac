using Gatehouse.Wire.Api;

namespace Gatehouse.Portal.Edges;

/// <summary>Edge to API view mappings.</summary>
public static class EdgeViews
{
    /// <summary>The API view of an edge.</summary>
    public static EdgeDto ToDto(this Edge e) =>
        new(e.Id, e.Name, e.Address, e.Status, e.CertificateSerial, e.CertificateNotAfter, e.EnrolledAt, e.LastSeenAt);
}
