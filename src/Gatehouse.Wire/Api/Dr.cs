using Gatehouse.Wire.Policy;

namespace Gatehouse.Wire.Api;

/// <summary>The rule every DR bundle ends with: traffic no DR rule covers gets the DR policy's default.</summary>
public static class DrPolicy
{
    /// <summary>
    /// Its name, which the DR edge's refusals carry: a device in fail-open DR mode sends a flow the
    /// DR edge refused under it direct instead.
    /// </summary>
    public const string OutsideRule = "dr-outside";
}

/// <summary>A tenant's disaster-recovery settings.</summary>
/// <param name="RecordName">The DNS name whose TXT record triggers DR (in a domain the customer controls).</param>
/// <param name="PublicKeyPem">The DR key's public half (the customer keeps the private one).</param>
/// <param name="EdgeIds">The enrolled edges that are DR edges: agents use them only in DR; connectors link to them always.</param>
/// <param name="DrillGroupId">The group whose devices take a <c>test</c> record.</param>
/// <param name="Rules">The DR policy: ordered rules as in the internet policy.</param>
/// <param name="DefaultAction">What the DR edges do with traffic no DR rule covers: allow or block.</param>
/// <param name="CheckSeconds">How often agents look the record up (and at once when no edge answers).</param>
/// <param name="Ready">Whether agents get the settings: a record name, a key and at least one DR edge.</param>
/// <param name="UpdatedAt">When they last changed.</param>
public sealed record DrSettingsDto(
    string? RecordName,
    string? PublicKeyPem,
    IReadOnlyList<Guid> EdgeIds,
    Guid? DrillGroupId,
    IReadOnlyList<PolicyRuleSpec> Rules,
    string DefaultAction,
    int CheckSeconds,
    bool Ready,
    DateTimeOffset? UpdatedAt);

/// <summary>Replaces a tenant's DR settings.</summary>
/// <param name="RecordName">The DNS name of the trigger record.</param>
/// <param name="PublicKeyPem">The DR public key (PEM, P-256), from <c>gatehouse dr key create</c>.</param>
/// <param name="EdgeIds">The DR edges.</param>
/// <param name="DrillGroupId">The drill group.</param>
/// <param name="Rules">The DR policy's rules.</param>
/// <param name="DefaultAction">allow or block (block by default).</param>
/// <param name="CheckSeconds">10 to 3600 (60 by default).</param>
public sealed record PutDrSettingsRequest(
    string? RecordName,
    string? PublicKeyPem,
    IReadOnlyList<Guid>? EdgeIds = null,
    Guid? DrillGroupId = null,
    IReadOnlyList<PolicyRuleSpec>? Rules = null,
    string? DefaultAction = null,
    int? CheckSeconds = null);
