namespace Gatehouse.Wire.Config;

/// <summary>The roles a config bundle is made for; a bundle made for one is refused by the others.</summary>
public static class BundleConsumers
{
    /// <summary>The endpoint agent.</summary>
    public const string Agent = "agent";

    /// <summary>The service edge.</summary>
    public const string Edge = "edge";

    /// <summary>
    /// The DR edge: the edge's bundle with the tenant's DR policy in place of its policy, for an
    /// edge started with <c>--dr</c>; a bundle for one is refused by the other.
    /// </summary>
    public const string Dr = "dr";

    /// <summary>The app connector.</summary>
    public const string Connector = "connector";

    /// <summary>Whether <paramref name="consumer"/> is one of the known consumers.</summary>
    /// <param name="consumer">The value to check.</param>
    /// <returns><see langword="true"/> for <see cref="Agent"/>, <see cref="Edge"/>, <see cref="Dr"/> or <see cref="Connector"/>.</returns>
    public static bool IsKnown(string? consumer) => consumer is Agent or Edge or Dr or Connector;

    /// <summary>Whether an edge reads the bundle: the service edge's or the DR edge's.</summary>
    /// <param name="consumer">The consumer.</param>
    /// <returns><see langword="true"/> for <see cref="Edge"/> and <see cref="Dr"/>.</returns>
    public static bool IsEdge(string? consumer) => consumer is Edge or Dr;
}
