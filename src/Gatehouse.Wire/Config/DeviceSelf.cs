namespace Gatehouse.Wire.Config;

/// <summary>
/// <c>GET /config/agent/self</c>: who an enrolled device belongs to, which the tenant-wide agent bundle
/// does not say: its user and the user's groups, so that the agent picks the app profile meant for them.
/// </summary>
/// <param name="DeviceId">The device.</param>
/// <param name="UserId">Its user, when the enrollment token named one.</param>
/// <param name="UserEmail">The user's email.</param>
/// <param name="GroupIds">The user's groups, ordered.</param>
public sealed record DeviceSelf(Guid DeviceId, Guid? UserId, string? UserEmail, IReadOnlyList<Guid> GroupIds);
