using System.Text.Json.Nodes;
using Gatehouse.Edge.Identities;
using Gatehouse.Edge.Operations;
using Gatehouse.Edge.Private;
using Gatehouse.Policy.Compilation;
using Gatehouse.Policy.Decisions;
using Gatehouse.Policy.Sources;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Edge.Policies;

/// <summary>What became of one bundle offered to <see cref="EdgePolicy.Apply"/>.</summary>
public enum EdgePolicyOutcome
{
    /// <summary>The bundle's policy compiled and is now in force.</summary>
    Applied,

    /// <summary>The bundle is not newer than the one in force (or the last one refused); nothing changed.</summary>
    NotNewer,

    /// <summary>The bundle's policy is malformed or does not compile; the previous policy stays in force.</summary>
    Refused,
}

/// <summary>The policy in force on this edge: which bundle version it came from, how many rules, since when.</summary>
/// <param name="Version">The version of the config bundle the policy came from.</param>
/// <param name="RuleCount">How many rules the policy holds.</param>
/// <param name="Since">When it was put in force.</param>
public sealed record EdgePolicyState(long Version, int RuleCount, DateTimeOffset Since);

/// <summary>
/// Owns the step from a verified config bundle to the policy in force: the bundle body becomes a
/// <see cref="PolicySource"/> and is compiled; only a policy that compiles replaces the one in force.
/// A refused bundle is logged with the rule and the reason, counted, and changes nothing.
/// </summary>
/// <remarks>Thread-safe: bundles are applied one at a time; readers take <see cref="Holder"/>'s policy once per flow.</remarks>
public sealed class EdgePolicy
{
    private readonly Lock _gate = new();
    private readonly EdgeMetrics? _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private EdgePolicyState? _state;
    private long _lastOffered = -1;
    private (string Error, DateTimeOffset At)? _lastRefusal;
    private volatile EdgeIdentities _identities = EdgeIdentities.None;
    private volatile PrivateAccess _private = PrivateAccess.None;

    /// <summary>Creates the state with no policy in force yet.</summary>
    /// <param name="metrics">Where to count; not counted when not given.</param>
    /// <param name="time">The clock for <see cref="EdgePolicyState.Since"/>.</param>
    /// <param name="logger">Where to log refusals and swaps.</param>
    public EdgePolicy(EdgeMetrics? metrics = null, TimeProvider? time = null, ILogger<EdgePolicy>? logger = null)
    {
        _metrics = metrics;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>The compiled policy in force (the empty policy until a bundle is applied); data paths decide through it.</summary>
    public PolicyHolder Holder { get; } = new();

    /// <summary>Who is who under the policy in force (tenant CA, revocations, devices, proxy credentials); swapped with it.</summary>
    public EdgeIdentities Identities => _identities;

    /// <summary>The private apps in force: access policy, segments' connector groups, connectors.</summary>
    public PrivateAccess Private => _private;

    /// <summary>The policy in force, or <see langword="null"/> before any bundle's policy compiled.</summary>
    public EdgePolicyState? State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>Why the last refused bundle was refused, or <see langword="null"/> when the newest bundle is in force.</summary>
    public string? LastError => LastRefusal?.Error;

    /// <summary>Why the last refused bundle was refused and when, or <see langword="null"/> when the newest bundle is in force.</summary>
    public (string Error, DateTimeOffset At)? LastRefusal
    {
        get
        {
            lock (_gate)
            {
                return _lastRefusal;
            }
        }
    }

    /// <summary>
    /// Puts the policy of bundle <paramref name="version"/> in force if it is newer than anything offered
    /// before and compiles; otherwise leaves the policy in force as it is.
    /// </summary>
    /// <param name="version">The bundle's version.</param>
    /// <param name="body">The bundle's body, as the portal's contributors wrote it.</param>
    /// <returns>What became of the bundle.</returns>
    public EdgePolicyOutcome Apply(long version, JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        lock (_gate)
        {
            // A refused version is not retried: the follower sends each version once, and a fix comes as a newer one.
            if (version <= _lastOffered)
            {
                return EdgePolicyOutcome.NotNewer;
            }

            _lastOffered = version;
            _metrics?.BundleAccepted();
            string? error;
            try
            {
                // Identities are read first: a bundle whose identities are malformed changes neither them nor the policy.
                var identities = EdgeIdentities.FromBundleBody(body);

                // The access policy compiles before the internet policy swaps in: either fails, nothing changes.
                var (privateAccess, accessError) = PrivateAccess.FromBundleBody(body);
                CompileResult? result = privateAccess is null ? null : Holder.TryUpdate(PolicySource.FromBundleBody(body));
                if (result?.Policy is { } policy)
                {
                    _identities = identities;
                    _private = privateAccess!;
                    _state = new EdgePolicyState(version, policy.RuleCount, _time.GetUtcNow());
                    _lastRefusal = null;
                    PolicyLog.PolicyInForce(_logger, version, policy.RuleCount, result.Value.Elapsed.TotalMilliseconds);
                    return EdgePolicyOutcome.Applied;
                }

                error = accessError ?? result!.Value.Error!.ToString();
            }
            catch (PolicyFormatException e)
            {
                error = e.Message;
            }

            _lastRefusal = ($"bundle {version}: {error}", _time.GetUtcNow());
            _metrics?.CompileFailed();
            PolicyLog.PolicyRefused(_logger, version, error, _state?.Version);
            return EdgePolicyOutcome.Refused;
        }
    }
}
