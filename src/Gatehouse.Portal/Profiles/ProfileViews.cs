using Gatehouse.Wire.Api;

namespace Gatehouse.Portal.Profiles;

/// <summary>Forwarding and app profile to API view mappings. Views say whether a password is set, never its hash.</summary>
public static class ProfileViews
{
    /// <summary>The API view of a forwarding profile.</summary>
    public static ForwardingProfileDto ToDto(this ForwardingProfile p) => new(p.Id, p.Name, p.Trusted, p.Untrusted, p.Vpn);

    /// <summary>The API view of an app profile.</summary>
    public static AppProfileDto ToDto(this AppProfile p) => new(
        p.Id,
        p.Name,
        p.Priority,
        [.. p.GroupIds],
        p.FailMode,
        p.TrustedNetwork,
        p.ForwardingProfileId,
        p.CaptivePortalPauseMinutes,
        p.LogoutPasswordHash is not null,
        p.DisablePasswordHash is not null);
}
