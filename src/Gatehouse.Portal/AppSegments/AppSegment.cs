namespace Gatehouse.Portal.AppSegments;

/// <summary>A private application: domains and/or networks with ports, reached through connector groups.</summary>
public sealed class AppSegment : Storage.ITenantOwned
{
    /// <summary>Stable id.</summary>
    public Guid Id { get; set; }

    /// <summary>The owning tenant.</summary>
    public Guid TenantId { get; set; }

    /// <summary>Unique within the tenant; policy rules refer to the segment by it.</summary>
    public required string Name { get; set; }

    /// <summary>Free text.</summary>
    public string Description { get; set; } = "";

    /// <summary>Disabled segments are kept but not published.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Lower-case domains, exact or <c>*.</c> wildcard (stored as JSON).</summary>
    public List<string> Domains { get; set; } = [];

    /// <summary>Canonical CIDR networks (stored as JSON).</summary>
    public List<string> Cidrs { get; set; } = [];

    /// <summary>Ports and port ranges (stored as JSON).</summary>
    public List<string> Ports { get; set; } = [];

    /// <summary>The segment group, if any.</summary>
    public Guid? SegmentGroupId { get; set; }

    /// <summary>Connector groups that serve the segment (stored as JSON).</summary>
    public List<Guid> ConnectorGroupIds { get; set; } = [];

    /// <summary>Server groups whose servers the connectors check for this segment (stored as JSON).</summary>
    public List<Guid> ServerGroupIds { get; set; } = [];

    /// <summary>When the segment was created.</summary>
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A named set of app segments.</summary>
public sealed class SegmentGroup : INamedGroup
{
    /// <summary>Stable id.</summary>
    public Guid Id { get; set; }

    /// <summary>The owning tenant.</summary>
    public Guid TenantId { get; set; }

    /// <summary>Unique within the tenant.</summary>
    public required string Name { get; set; }

    /// <summary>Free text.</summary>
    public string Description { get; set; } = "";

    /// <summary>When the group was created.</summary>
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A set of app connectors that serve the same segments.</summary>
public sealed class ConnectorGroup : INamedGroup
{
    /// <summary>Stable id.</summary>
    public Guid Id { get; set; }

    /// <summary>The owning tenant.</summary>
    public Guid TenantId { get; set; }

    /// <summary>Unique within the tenant.</summary>
    public required string Name { get; set; }

    /// <summary>Free text.</summary>
    public string Description { get; set; } = "";

    /// <summary>When the group was created.</summary>
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>App servers behind app segments, and how connectors check them.</summary>
public sealed class ServerGroup : Storage.ITenantOwned
{
    /// <summary>Stable id.</summary>
    public Guid Id { get; set; }

    /// <summary>The owning tenant.</summary>
    public Guid TenantId { get; set; }

    /// <summary>Unique within the tenant.</summary>
    public required string Name { get; set; }

    /// <summary>Free text.</summary>
    public string Description { get; set; } = "";

    /// <summary>Host names or addresses (stored as JSON).</summary>
    public List<string> Servers { get; set; } = [];

    /// <summary>One of <see cref="Wire.Api.HealthCheckKinds"/>.</summary>
    public string HealthCheck { get; set; } = Wire.Api.HealthCheckKinds.Tcp;

    /// <summary>The path of an <c>http</c> check.</summary>
    public string HealthPath { get; set; } = "/";

    /// <summary>When the group was created.</summary>
    public DateTimeOffset CreatedAt { get; set; }
}
