using System.Globalization;
using Gatehouse.Edge.Flows;
using Gatehouse.Edge.Hosting;

namespace Gatehouse.Edge.Commands;

/// <summary>
/// The command-line flag of one of <see cref="EdgeLimits"/>' values: its name, what it limits, and how its text is
/// read and checked. <see cref="All"/> is every one, so that <c>gatehouse-edge run</c>, its help and the docs agree.
/// </summary>
internal sealed class LimitFlag
{
    private static readonly TimeSpan LongestTimer = TimeSpan.FromDays(24);

    // HTTP/2's own bounds on a window are 65,535 bytes and 2^31 - 1 (RFC 9113 6.9.2).
    private const int MinWindow = 64 * 1024;
    private const int MaxWindow = 1024 * 1024 * 1024;

    private readonly Func<EdgeLimits, string> _show;
    private readonly Func<EdgeLimits, string, (EdgeLimits? Limits, string? Error)> _apply;

    private LimitFlag(string name, string what, string valueName, Func<EdgeLimits, string> show, Func<EdgeLimits, string, (EdgeLimits?, string?)> apply)
    {
        Name = name;
        What = what;
        ValueName = valueName;
        _show = show;
        _apply = apply;
    }

    /// <summary>Every limit's flag, in the order of the help.</summary>
    public static IReadOnlyList<LimitFlag> All { get; } =
    [
        Duration("--header-timeout", "How long a client may take to send a request head, or to finish the tunnel's TLS handshake", l => l.HeaderTimeout, (l, v) => l with { HeaderTimeout = v }),
        Duration("--keep-alive-timeout", "How long a kept-alive proxy connection may wait for its next request", l => l.KeepAliveTimeout, (l, v) => l with { KeepAliveTimeout = v }),
        Duration("--idle-timeout", "How long a flow may carry no bytes before it is ended", l => l.IdleTimeout, (l, v) => l with { IdleTimeout = v }),
        Duration("--connect-timeout", "How long one connection attempt to a destination may take", l => l.ConnectTimeout, (l, v) => l with { ConnectTimeout = v }),
        Duration("--response-timeout", "How long a destination may take to start its response", l => l.ResponseTimeout, (l, v) => l with { ResponseTimeout = v }),
        Duration("--drain-timeout", "How long stopping waits for open flows before it cuts them; 0s cuts them at once", l => l.DrainTimeout, (l, v) => l with { DrainTimeout = v }, zeroAllowed: true),
        Size("--max-head-size", "The longest request or response head", 1024, 1024 * 1024, l => l.MaxHeadBytes, (l, v) => l with { MaxHeadBytes = v }),
        Size("--tunnel-stream-window", "How much of one flow's upload the tunnel listener takes ahead of its destination: what the edge may hold for it, and what it uploads per round trip", MinWindow, MaxWindow, l => l.TunnelStreamWindowBytes, (l, v) => l with { TunnelStreamWindowBytes = v }),
        Size("--tunnel-connection-window", "How much of all the uploads of one agent connection the tunnel listener takes ahead of their destinations; at least the stream window", MinWindow, MaxWindow, l => l.TunnelConnectionWindowBytes, (l, v) => l with { TunnelConnectionWindowBytes = v }),
        Count("--max-connections", "Client connections each listener holds at once; more are refused", l => l.MaxConnections, (l, v) => l with { MaxConnections = v }),
        Count("--max-streams-per-connection", "Flows (HTTP/2 streams) at once on one agent connection", l => l.MaxStreamsPerConnection, (l, v) => l with { MaxStreamsPerConnection = v }),
        Count("--max-connections-per-device", "Agent connections one device certificate may hold; one more closes the device's oldest", l => l.MaxConnectionsPerDevice, (l, v) => l with { MaxConnectionsPerDevice = v }),
        Count("--proxy-auth-failures-per-user", "Wrong proxy passwords for one user name from one address before that name is refused there for a window", l => l.ProxyAuthFailuresPerUser, (l, v) => l with { ProxyAuthFailuresPerUser = v }),
        Count("--proxy-auth-failures-per-address", "Wrong proxy passwords from one address, any names, before it is refused for a window; at least the per-user number", l => l.ProxyAuthFailuresPerAddress, (l, v) => l with { ProxyAuthFailuresPerAddress = v }),
        Duration("--proxy-auth-failure-window", "How long wrong proxy passwords are counted, and how long a limit reached refuses", l => l.ProxyAuthFailureWindow, (l, v) => l with { ProxyAuthFailureWindow = v }),
        Count("--proxy-auth-tracked-addresses", "Client addresses whose wrong proxy passwords are counted at once; the oldest are forgotten past it", l => l.ProxyAuthTrackedAddresses, (l, v) => l with { ProxyAuthTrackedAddresses = v }),
    ];

    /// <summary>The flag, <c>--idle-timeout</c>.</summary>
    public string Name { get; }

    /// <summary>What it limits, in a sentence without its default.</summary>
    public string What { get; }

    /// <summary>What the help says: what it limits and its default.</summary>
    public string Description => $"{What} (default {Default}).";

    /// <summary>What the help calls its value: <c>DURATION</c>, <c>SIZE</c> or <c>N</c>.</summary>
    public string ValueName { get; }

    /// <summary>The default value as the flag would take it: <c>5m</c>, <c>32KiB</c>, <c>16</c>.</summary>
    public string Default => _show(new EdgeLimits());

    /// <summary>
    /// Reads the limits from the flags given: each flag's text through <paramref name="valueOf"/> (null when not given,
    /// for its default). Each bad value adds one message to <paramref name="errors"/>, naming the flag, the value and
    /// what it may be.
    /// </summary>
    /// <param name="valueOf">The text given for a flag, or null.</param>
    /// <param name="errors">Where the problems go.</param>
    /// <returns>The limits; meaningful only when no error was added.</returns>
    public static EdgeLimits Read(Func<LimitFlag, string?> valueOf, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(valueOf);
        ArgumentNullException.ThrowIfNull(errors);
        var limits = new EdgeLimits();
        foreach (var flag in All)
        {
            if (valueOf(flag) is not { } text)
            {
                continue;
            }

            var (applied, error) = flag._apply(limits, text);
            if (error is not null)
            {
                errors.Add($"{flag.Name} {error}, not \"{text}\".");
            }
            else
            {
                limits = applied!;
            }
        }

        if (limits.TunnelConnectionWindowBytes < limits.TunnelStreamWindowBytes)
        {
            errors.Add($"--tunnel-connection-window ({Quantities.FormatSize(limits.TunnelConnectionWindowBytes)}) must be at least --tunnel-stream-window ({Quantities.FormatSize(limits.TunnelStreamWindowBytes)}): "
                + "a connection's window smaller than one flow's would hold every flow to it.");
        }

        if (limits.ProxyAuthFailuresPerAddress < limits.ProxyAuthFailuresPerUser)
        {
            errors.Add($"--proxy-auth-failures-per-address ({limits.ProxyAuthFailuresPerAddress}) must be at least --proxy-auth-failures-per-user ({limits.ProxyAuthFailuresPerUser}): "
                + "one client with a stale password behind a shared address would otherwise lock its neighbours out.");
        }

        return limits;
    }

    private static LimitFlag Duration(string name, string what, Func<EdgeLimits, TimeSpan> get, Func<EdgeLimits, TimeSpan, EdgeLimits> set, bool zeroAllowed = false)
    {
        var least = zeroAllowed ? "0s" : "1ms";
        return new(name, what, "DURATION", l => Quantities.FormatDuration(get(l)), (limits, text) =>
            Quantities.TryParseDuration(text, out var value) && (value > TimeSpan.Zero || zeroAllowed) && value <= LongestTimer
                ? (set(limits, value), null)
                : (null, $"must be a duration from {least} to {Quantities.FormatDuration(LongestTimer)} such as 30s, 5m or 2h"));
    }

    private static LimitFlag Size(string name, string what, int least, int most, Func<EdgeLimits, int> get, Func<EdgeLimits, int, EdgeLimits> set) =>
        new(name, what, "SIZE", l => Quantities.FormatSize(get(l)), (limits, text) =>
            Quantities.TryParseSize(text, out var value) && value >= least && value <= most
                ? (set(limits, (int)value), null)
                : (null, $"must be a size from {Quantities.FormatSize(least)} to {Quantities.FormatSize(most)} in bytes, KiB, MiB or GiB, such as {Quantities.FormatSize(get(new EdgeLimits()))}"));

    private static LimitFlag Count(string name, string what, Func<EdgeLimits, long> get, Func<EdgeLimits, int, EdgeLimits> set) =>
        new(name, what, "N", l => get(l).ToString(CultureInfo.InvariantCulture), (limits, text) =>
            int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1
                ? (set(limits, value), null)
                : (null, $"must be a whole number from 1 to {int.MaxValue}"));
}
