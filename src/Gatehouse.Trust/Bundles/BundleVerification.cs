using System.Text.Json.Nodes;
using Gatehouse.Wire.Config;

namespace Gatehouse.Trust.Bundles;

/// <summary>Why a bundle was accepted or refused.</summary>
public enum BundleVerificationStatus
{
    /// <summary>The bundle is signed by a trusted key and meant for this consumer.</summary>
    Valid,

    /// <summary>The document is not a well-formed bundle.</summary>
    Malformed,

    /// <summary>No signature is by a trusted key.</summary>
    UnknownKey,

    /// <summary>A signature claims a trusted key but does not verify.</summary>
    BadSignature,

    /// <summary>The bundle belongs to another tenant.</summary>
    WrongTenant,

    /// <summary>The bundle is for another kind of consumer.</summary>
    WrongConsumer,

    /// <summary>The bundle is older than the one in force.</summary>
    VersionRollback,

    /// <summary>The bundle has the version of the one in force but different content.</summary>
    VersionConflict,

    /// <summary>The bundle's expiry time has passed.</summary>
    Expired,

    /// <summary>The signature holds, but the node cannot use what the body says (its own check refused it).</summary>
    Unusable,
}

/// <summary>A bundle that passed verification.</summary>
/// <param name="Header">What the bundle says about itself.</param>
/// <param name="Body">The configuration the bundle carries.</param>
/// <param name="Document">The document exactly as received, for the last-known-good store.</param>
public sealed record VerifiedBundle(BundleHeader Header, JsonObject Body, byte[] Document);

/// <summary>The outcome of <see cref="BundleVerifier.Verify(ReadOnlySpan{byte}, long?)"/>.</summary>
/// <param name="Status">Why the bundle was accepted or refused.</param>
/// <param name="Reason">A plain sentence for logs and the CLI when refused; <see langword="null"/> when valid.</param>
/// <param name="Bundle">The bundle when valid; otherwise <see langword="null"/>.</param>
public sealed record BundleVerification(BundleVerificationStatus Status, string? Reason, VerifiedBundle? Bundle)
{
    /// <summary>Whether the bundle may be put in force.</summary>
    public bool IsValid => Status == BundleVerificationStatus.Valid && Bundle is not null;
}
