using Gatehouse.Trust.Certificates;
using Gatehouse.Wire.Config;

namespace Gatehouse.Node.Credentials;

/// <summary>Who a node is and where it follows its tenant: the contents of <c>node.json</c>.</summary>
/// <param name="PortalUrl">The portal's base address, such as <c>https://portal.example:7443/</c>.</param>
/// <param name="TenantId">The tenant the node belongs to.</param>
/// <param name="Kind">One of <see cref="IdentityKinds"/>.</param>
/// <param name="SubjectId">The device, edge or connector id the portal gave the node.</param>
/// <param name="ConfigPath">The path of the node's config bundle, such as <c>/api/v1/config/agent</c>.</param>
public sealed record NodeIdentity(Uri PortalUrl, Guid TenantId, string Kind, Guid SubjectId, string ConfigPath)
{
    /// <summary>The bundle consumer this kind of node is: device→agent, edge→edge, connector→connector.</summary>
    public string Consumer => ConsumerOf(Kind);

    /// <summary>The identity the node's certificate carries.</summary>
    public CertificateIdentity CertificateIdentity => new(TenantId.ToString(), Kind, SubjectId.ToString());

    /// <summary>The bundle consumer a certificate kind fetches.</summary>
    /// <param name="kind">One of <see cref="IdentityKinds"/>.</param>
    /// <returns>One of <see cref="BundleConsumers"/>.</returns>
    /// <exception cref="ArgumentException">The kind is unknown.</exception>
    public static string ConsumerOf(string kind) => kind switch
    {
        IdentityKinds.Device => BundleConsumers.Agent,
        IdentityKinds.Edge => BundleConsumers.Edge,
        IdentityKinds.Connector => BundleConsumers.Connector,
        _ => throw new ArgumentException($"\"{kind}\" is not device, edge or connector.", nameof(kind)),
    };
}
