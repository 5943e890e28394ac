namespace Gatehouse.Portal.Audit;

/// <summary>One admin change. Append-only: the store refuses to change or delete entries.</summary>
public sealed class AuditEntry : Storage.ITenantOwned
{
    /// <summary>Time-ordered id (UUID v7), so entries list in the order they happened.</summary>
    public Guid Id { get; set; }

    /// <summary>The tenant the change was made in.</summary>
    public Guid TenantId { get; set; }

    /// <summary>When.</summary>
    public DateTimeOffset At { get; set; }

    /// <summary>The admin who made it; null for the system itself.</summary>
    public Guid? ActorId { get; set; }

    /// <summary>The actor's email (kept even if the admin is deleted later).</summary>
    public required string Actor { get; set; }

    /// <summary>What was done, as <c>noun.verb</c> (for example <c>user.create</c>).</summary>
    public required string Action { get; set; }

    /// <summary>The kind of object changed.</summary>
    public required string ObjectType { get; set; }

    /// <summary>The id of the object changed.</summary>
    public string? ObjectId { get; set; }

    /// <summary>The object before the change, as JSON, secrets removed.</summary>
    public string? Before { get; set; }

    /// <summary>The object after the change, as JSON, secrets removed.</summary>
    public string? After { get; set; }
}
