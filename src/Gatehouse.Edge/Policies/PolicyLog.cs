
namespace Gatehouse.Edge.Policies;

/// <summary>Log messages of the policy in force (event ids 1100-1199).</summary>
internal static partial class PolicyLog
{
    [LoggerMessage(1100, LogLevel.Information, "Policy of config bundle {Version} in force: {Rules} rules, compiled in {Milliseconds:F1} ms")]
    public static partial void PolicyInForce(ILogger logger, long version, int rules, double milliseconds);

    [LoggerMessage(1101, LogLevel.Error, "Policy of config bundle {Version} refused, {Error}; the policy of bundle {InForce} stays in force")]
    public static partial void PolicyRefused(ILogger logger, long version, string error, long? inForce);
}
