using System.Net;

namespace Gatehouse.Policy.Decisions;

/// <summary>
/// One flow (or one HTTP request) to decide. Nothing here is copied or allocated by
/// <see cref="CompiledPolicy.Decide(in FlowContext)"/>.
/// </summary>
public readonly record struct FlowContext
{
    /// <summary>The user's id; when set and the user is known, supplies the email and groups the flow leaves out.</summary>
    public string? UserId { get; init; }

    /// <summary>The user's email (compared without regard to case).</summary>
    public string? UserEmail { get; init; }

    /// <summary>Group names; when empty, the known user's groups are used.</summary>
    public ReadOnlyMemory<string> Groups { get; init; }

    /// <summary>Device posture checks that hold (for example <c>disk-encrypted</c>, <c>os:linux</c>).</summary>
    public ReadOnlyMemory<string> Posture { get; init; }

    /// <summary>The network the device is on.</summary>
    public NetworkKind Network { get; init; }

    /// <summary>When the flow starts (schedules convert it to their time zone).</summary>
    public DateTimeOffset Time { get; init; }

    /// <summary>The destination host name, in any case, with or without a final dot; taken from <see cref="Url"/> when null.</summary>
    public string? Host { get; init; }

    /// <summary>The destination address (IPv4-mapped IPv6 counts as IPv4).</summary>
    public IPAddress? Ip { get; init; }

    /// <summary>The destination port (0 when not known).</summary>
    public int Port { get; init; }

    /// <summary>The protocol.</summary>
    public FlowProtocol Protocol { get; init; }

    /// <summary>For HTTP requests, the absolute URL; its host is used when <see cref="Host"/> is null.</summary>
    public string? Url { get; init; }
}
