using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Policy.Compilation;
using Gatehouse.Policy.Decisions;
using Gatehouse.Policy.Sources;
using Gatehouse.Portal.Api;
using Gatehouse.Portal.Config;
using Gatehouse.Wire.Config;

namespace Gatehouse.Portal.Policies;

/// <summary>
/// The compiled policy an edge of the tenant enforces, built from the tenant's current edge bundle
/// (the same body, the same <see cref="PolicySource.FromBundleBody"/> and <see cref="PolicyCompiler"/>),
/// and kept per tenant until the bundle version changes.
/// </summary>
public sealed class PolicyExplainer(ConfigPublisher publisher)
{
    /// <summary>How long an explain waits for pending changes to be published.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<Guid, Compiled> _cache = new();

    /// <summary>
    /// The tenant's policy as its edges hold it. Changes saved before the call are published first
    /// (bounded by <see cref="Wait"/>), so an admin explains what they just saved.
    /// </summary>
    /// <exception cref="PortalException">No edge bundle in time (503), or the bundle's policy does not compile (409).</exception>
    public async Task<CompiledPolicy> PolicyAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await publisher.SettledAsync(tenantId, Wait, cancellationToken);
        var bundle = await publisher.CurrentAsync(tenantId, BundleConsumers.Edge, Wait, cancellationToken)
            ?? throw new PortalException(PortalErrorKind.Unavailable, "The tenant's edge configuration is not published yet; try again.");
        if (_cache.TryGetValue(tenantId, out var cached) && cached.Version == bundle.Version)
        {
            return cached.Policy;
        }

        var result = PolicyCompiler.Compile(Source(bundle));
        if (result.Policy is not { } policy)
        {
            // An edge refuses such a bundle and keeps its previous policy, which the portal does not know.
            throw PortalException.Conflict($"The policy in the edge bundle v{bundle.Version} does not compile: {result.Error}");
        }

        _cache.AddOrUpdate(tenantId, new Compiled(bundle.Version, policy), (_, old) => old.Version > bundle.Version ? old : new Compiled(bundle.Version, policy));
        return policy;
    }

    private static PolicySource Source(PublishedBundle bundle)
    {
        try
        {
            var body = JsonNode.Parse(bundle.Document)?["signed"]?["body"] as JsonObject
                ?? throw new PolicyFormatException("signed.body", "the bundle has no body object");
            return PolicySource.FromBundleBody(body);
        }
        catch (Exception e) when (e is JsonException or PolicyFormatException)
        {
            throw PortalException.Conflict($"The edge bundle v{bundle.Version} cannot be read as a policy: {e.Message}");
        }
    }

    private sealed record Compiled(long Version, CompiledPolicy Policy);
}
