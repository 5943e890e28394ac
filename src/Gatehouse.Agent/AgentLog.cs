using Microsoft.Extensions.Logging;

namespace Gatehouse.Agent;

/// <summary>Log messages of the agent (event ids 4000–4099). Never a token, key or password.</summary>
internal static partial class AgentLog
{
    [LoggerMessage(4000, LogLevel.Warning, "Edge {Name} ({Address}) cannot be reached: {Reason}")]
    public static partial void EdgeUnreachable(ILogger logger, string name, string address, string reason);

    [LoggerMessage(4001, LogLevel.Information, "Config version {Version} in force: {Edges} edges, fail mode {FailMode}")]
    public static partial void BundleApplied(ILogger logger, long version, int edges, string failMode);

    [LoggerMessage(4002, LogLevel.Warning, "Config version {Version} refused, the previous one stays in force: {Reason}")]
    public static partial void BundleRefused(ILogger logger, long version, string reason);

    [LoggerMessage(4003, LogLevel.Information, "The {What} listens on {Address}")]
    public static partial void Listening(ILogger logger, string what, string address);

    [LoggerMessage(4004, LogLevel.Debug, "The session of {Client} failed")]
    public static partial void SessionFailed(ILogger logger, Exception exception, string client);

    [LoggerMessage(4010, LogLevel.Information, "Data plane started (pid {Pid})")]
    public static partial void RoleStarted(ILogger logger, int pid);

    [LoggerMessage(4011, LogLevel.Warning, "Data plane exited with code {Code}; restart {Restart} in {DelayMs} ms")]
    public static partial void RoleExited(ILogger logger, int code, int restart, long delayMs);

    [LoggerMessage(4012, LogLevel.Information, "Local API on {Path}")]
    public static partial void LocalApiListening(ILogger logger, string path);

    [LoggerMessage(4013, LogLevel.Warning, "Local API refused {Command} from uid {Uid}: {Reason}")]
    public static partial void LocalApiRefused(ILogger logger, string command, int uid, string reason);

    [LoggerMessage(4014, LogLevel.Information, "Enrolled as device {DeviceId}")]
    public static partial void Enrolled(ILogger logger, Guid deviceId);

    [LoggerMessage(4015, LogLevel.Information, "Logged out: device credentials removed")]
    public static partial void LoggedOut(ILogger logger);

    [LoggerMessage(4016, LogLevel.Warning, "Removed what a dead data plane left behind: {What}")]
    public static partial void CleanedUp(ILogger logger, string what);

    [LoggerMessage(4020, LogLevel.Warning, "Name server {Server} did not answer for {Name}: {Reason}")]
    public static partial void UpstreamDnsFailed(ILogger logger, string server, string name, string reason);

    [LoggerMessage(4021, LogLevel.Information, "Transparent interception {What}: TCP to {TcpPort}, DNS to {DnsPort}")]
    public static partial void Interception(ILogger logger, string what, int tcpPort, int dnsPort);

    [LoggerMessage(4022, LogLevel.Error, "Transparent interception cannot be set up: {Reason}")]
    public static partial void InterceptionFailed(ILogger logger, string reason);

    [LoggerMessage(4023, LogLevel.Information, "Private app addresses come from {Range}")]
    public static partial void SyntheticRangeChosen(ILogger logger, string range);

    [LoggerMessage(4024, LogLevel.Warning, "IPv6 is not carried (it is reset, so applications use IPv4): {Reason}")]
    public static partial void Ipv6NotCarried(ILogger logger, string reason);

    [LoggerMessage(4030, LogLevel.Information, "Content {Channel} {Version} in force ({Slot})")]
    public static partial void ContentInForce(ILogger logger, string channel, string version, string slot);

    [LoggerMessage(4031, LogLevel.Warning, "Content {Channel} {Version} refused: {Reason}; the last good content stays in force")]
    public static partial void ContentRefused(ILogger logger, string channel, string version, string reason);

    [LoggerMessage(4032, LogLevel.Warning, "Checking for {Channel} content failed: {Reason}")]
    public static partial void ContentCheckFailed(ILogger logger, string channel, string reason);

    [LoggerMessage(4033, LogLevel.Information, "The rollout sent {Channel} back from {From} to {To}")]
    public static partial void ContentSentBack(ILogger logger, string channel, string from, string to);

    [LoggerMessage(4034, LogLevel.Warning, "Agent build {Version} installed as the trial build (running {Running}); restarting into it")]
    public static partial void ReleaseInstalled(ILogger logger, string version, string running);

    [LoggerMessage(4040, LogLevel.Warning, "Disaster recovery: record version {Version} says {State} (fail-{Mode}); tunnels go to the DR edges {Edges}")]
    public static partial void DrEntered(ILogger logger, long version, string state, string mode, string edges);

    [LoggerMessage(4041, LogLevel.Warning, "Disaster recovery over: {Why}; tunnels go to the cloud edges again")]
    public static partial void DrLeft(ILogger logger, string why);

    [LoggerMessage(4042, LogLevel.Information, "The DR record {Name} could not be looked up: {Reason}; nothing changes")]
    public static partial void DrLookupFailed(ILogger logger, string name, string reason);

    [LoggerMessage(4043, LogLevel.Warning, "A DR record at {Name} is ignored: {Reason}")]
    public static partial void DrRecordIgnored(ILogger logger, string name, string reason);

    [LoggerMessage(4044, LogLevel.Information, "DR record version {Version} says {State}, but no cloud edge answers yet: staying on the DR edges")]
    public static partial void DrStaying(ILogger logger, long version, string state);
}
