using Gatehouse.Wire.Api;

namespace Gatehouse.Portal.AppSegments;

/// <summary>App segment, segment group and connector group to API view mappings.</summary>
public static class AppSegmentViews
{
    /// <summary>The API view of an app segment.</summary>
    public static AppSegmentDto ToDto(this AppSegment s) =>
        new(s.Id, s.Name, s.Description, s.Enabled, [.. s.Domains], [.. s.Cidrs], [.. s.Ports], s.SegmentGroupId, [.. s.ConnectorGroupIds], [.. s.ServerGroupIds]);

    /// <summary>The API view of a segment group.</summary>
    public static SegmentGroupDto ToDto(this SegmentGroup g) => new(g.Id, g.Name, g.Description);

    /// <summary>The API view of a connector group.</summary>
    public static ConnectorGroupDto ToDto(this ConnectorGroup g) => new(g.Id, g.Name, g.Description);

    /// <summary>The API view of a server group.</summary>
    public static ServerGroupDto ToDto(this ServerGroup g) => new(g.Id, g.Name, g.Description, [.. g.Servers], g.HealthCheck, g.HealthPath);
}
