using Gatehouse.Wire.Api;

namespace Gatehouse.Portal.Profiles;

/// <summary>What the agent does with traffic on a trusted, an untrusted and a VPN network.</summary>
public sealed class ForwardingProfile : Storage.ITenantOwned
{
    /// <summary>Stable id.</summary>
    public Guid Id { get; set; }

    /// <summary>The owning tenant.</summary>
    public Guid TenantId { get; set; }

    /// <summary>Unique within the tenant.</summary>
    public required string Name { get; set; }

    /// <summary>One of <see cref="ForwardingActions"/> on a trusted network.</summary>
    public required string Trusted { get; set; }

    /// <summary>One of <see cref="ForwardingActions"/> on an untrusted network.</summary>
    public required string Untrusted { get; set; }

    /// <summary>One of <see cref="ForwardingActions"/> while a VPN is up.</summary>
    public required string Vpn { get; set; }

    /// <summary>When the profile was created.</summary>
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>Agent behaviour for a set of users; the lowest priority number that matches a user applies.</summary>
public sealed class AppProfile : Storage.ITenantOwned
{
    /// <summary>Stable id.</summary>
    public Guid Id { get; set; }

    /// <summary>The owning tenant.</summary>
    public Guid TenantId { get; set; }

    /// <summary>Unique within the tenant.</summary>
    public required string Name { get; set; }

    /// <summary>0–1000; lower wins.</summary>
    public int Priority { get; set; } = 100;

    /// <summary>Groups whose users get this profile; empty means everyone (stored as JSON).</summary>
    public List<Guid> GroupIds { get; set; } = [];

    /// <summary>One of <see cref="FailModes"/>.</summary>
    public required string FailMode { get; set; }

    /// <summary>How the agent recognises a trusted network (stored as JSON).</summary>
    public TrustedNetworkCriteria TrustedNetwork { get; set; } = new(null, null, null, null);

    /// <summary>The forwarding profile, if any.</summary>
    public Guid? ForwardingProfileId { get; set; }

    /// <summary>How long the agent stands aside for a captive portal, 0–60.</summary>
    public int CaptivePortalPauseMinutes { get; set; } = 10;

    /// <summary>Hash of the password a user needs to log the agent out; never shown or audited.</summary>
    public string? LogoutPasswordHash { get; set; }

    /// <summary>Hash of the password a user needs to disable the agent; never shown or audited.</summary>
    public string? DisablePasswordHash { get; set; }

    /// <summary>When the profile was created.</summary>
    public DateTimeOffset CreatedAt { get; set; }
}
