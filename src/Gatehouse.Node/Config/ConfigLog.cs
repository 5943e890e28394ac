using Gatehouse.Trust.Bundles;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Node.Config;

/// <summary>Log messages of the bundle follower (event ids 1200–1299).</summary>
internal static partial class ConfigLog
{
    [LoggerMessage(1200, LogLevel.Information, "Config bundle {Consumer} version {Version} is in force.")]
    public static partial void BundleInForce(ILogger logger, string consumer, long version);

    [LoggerMessage(1201, LogLevel.Warning, "Config bundle refused ({Status}): {Reason} The bundle in force (version {Version}) stays.")]
    public static partial void BundleRefused(ILogger logger, BundleVerificationStatus status, string? reason, long? version);

    [LoggerMessage(1202, LogLevel.Information, "Serving the last-known-good config bundle, version {Version}, until the portal answers.")]
    public static partial void LastKnownGoodLoaded(ILogger logger, long version);

    [LoggerMessage(1203, LogLevel.Warning, "The last-known-good config bundle is refused ({Status}): {Reason}")]
    public static partial void LastKnownGoodRefused(ILogger logger, BundleVerificationStatus status, string? reason);

    [LoggerMessage(1204, LogLevel.Warning, "Fetching config from the portal failed: {Error} Next try in {DelaySeconds:0.#} s.")]
    public static partial void PollFailed(ILogger logger, string error, double delaySeconds);

    [LoggerMessage(1205, LogLevel.Information, "The portal is reachable again.")]
    public static partial void Reconnected(ILogger logger);

    [LoggerMessage(1207, LogLevel.Error, "Following the config failed unexpectedly; trying again after a backoff.")]
    public static partial void LoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(1206, LogLevel.Error, "The config bundle in force could not be saved as last-known-good.")]
    public static partial void SaveFailed(ILogger logger, Exception exception);
}
