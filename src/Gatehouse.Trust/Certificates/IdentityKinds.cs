namespace Gatehouse.Trust.Certificates;

/// <summary>What a certificate identifies.</summary>
public static class IdentityKinds
{
    /// <summary>An enrolled endpoint running the agent.</summary>
    public const string Device = "device";

    /// <summary>A service edge.</summary>
    public const string Edge = "edge";

    /// <summary>An app connector.</summary>
    public const string Connector = "connector";

    /// <summary>Whether <paramref name="kind"/> is one of the known kinds.</summary>
    /// <param name="kind">The value to check.</param>
    /// <returns><see langword="true"/> for <see cref="Device"/>, <see cref="Edge"/> or <see cref="Connector"/>.</returns>
    public static bool IsKnown(string? kind) => kind is Device or Edge or Connector;
}
