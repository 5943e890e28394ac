namespace Gatehouse.Policy.Explain;

/// <summary>The criteria of a rule, in the order the model lists them (and explanations check them).</summary>
public enum PolicyCriterion
{
    /// <summary>User emails.</summary>
    Users,
    /// <summary>Group names.</summary>
    Groups,
    /// <summary>Device posture checks.</summary>
    Posture,
    /// <summary>Network kinds.</summary>
    Networks,
    /// <summary>Days and a daily window in a time zone.</summary>
    Schedule,
    /// <summary>Destination domains, exact or wildcard.</summary>
    Domains,
    /// <summary>URL categories.</summary>
    Categories,
    /// <summary>Destination networks.</summary>
    Cidrs,
    /// <summary>Destination ports and ranges.</summary>
    Ports,
    /// <summary>Protocols.</summary>
    Protocols,
    /// <summary>App segments.</summary>
    AppSegments,
}
