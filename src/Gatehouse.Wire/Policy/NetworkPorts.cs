using System.Net;

namespace Gatehouse.Wire.Policy;

/// <summary>A network and the ports on it that something covers, such as an app segment's.</summary>
/// <param name="Network">The network.</param>
/// <param name="Ports">Inclusive port ranges; none means every port.</param>
public sealed record NetworkPorts(IPNetwork Network, IReadOnlyList<(int Low, int High)> Ports);
