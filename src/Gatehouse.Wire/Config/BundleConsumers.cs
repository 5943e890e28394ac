namespace Gatehouse.Wire.Config;

/// <summary>The roles a config bundle is made for; a bundle made for one is refused by the others.</summary>
public static class BundleConsumers
{
    /// <summary>The endpoint agent.</summary>
    public const string Agent = "agent";

    /// <summary>The service edge (and the DR edge).</summary>
    public const string Edge = "edge";

    /// <summary>The app connector.</summary>
    public const string Connector = "connector";

    /// <summary>Whether <paramref name="consumer"/> is one of the known consumers.</summary>
    /// <param name="consumer">The value to check.</param>
    /// <returns><see langword="true"/> for <see cref="Agent"/>, <see cref="Edge"/> or <see cref="Connector"/>.</returns>
    public static bool IsKnown(string? consumer) => consumer is Agent or Edge or Connector;
}
