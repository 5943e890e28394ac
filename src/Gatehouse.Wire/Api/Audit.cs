namespace Gatehouse.Wire.Api;

/// <summary>One admin change: who, when, what, before and after.</summary>
public sealed record AuditEntryDto(
    Guid Id,
    DateTimeOffset At,
    Guid? ActorId,
    string Actor,
    string Action,
    string ObjectType,
    string? ObjectId,
    string? Before,
    string? After);
