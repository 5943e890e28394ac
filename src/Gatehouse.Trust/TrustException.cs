namespace Gatehouse.Trust;

/// <summary>A signature, certificate, bundle or secret that cannot be trusted.</summary>
/// <remarks>The message is a plain sentence that is safe to log: it never carries key material.</remarks>
public sealed class TrustException(string message) : Exception(message)
{
    /// <summary>Always <see langword="false"/>: retrying does not make untrusted input trusted.</summary>
    public bool IsTransient => false;
}
