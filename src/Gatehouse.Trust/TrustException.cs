namespace Gatehouse.Trust;

/// <summary>A signature, certificate or bundle that cannot be trusted.</summary>
public sealed class TrustException(string message) : Exception(message);
