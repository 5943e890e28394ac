namespace Gatehouse.Portal.Tenants;

/// <summary>One customer organisation. Everything else belongs to exactly one tenant.</summary>
public sealed class Tenant
{
    /// <summary>Stable id; also the tenant part of every certificate identity.</summary>
    public Guid Id { get; set; }

    /// <summary>Display name, unique across the portal.</summary>
    public required string Name { get; set; }

    /// <summary>When the tenant was created.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The tenant CA certificate (PEM).</summary>
    public required string CaCertificatePem { get; set; }

    /// <summary>The tenant CA's private key, PKCS#8, encrypted at rest.</summary>
    public required byte[] CaPrivateKeyProtected { get; set; }

    /// <summary>The config-signing key, PKCS#8, encrypted at rest.</summary>
    public required byte[] ConfigKeyProtected { get; set; }

    /// <summary>The config-signing public key (PEM), handed to edges and agents at enrollment.</summary>
    public required string ConfigKeyPublicPem { get; set; }
}
