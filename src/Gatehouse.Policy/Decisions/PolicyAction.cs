namespace Gatehouse.Policy.Decisions;

/// <summary>What a decision does to a flow (<see cref="Gatehouse.Wire.Policy.PolicyActions"/>).</summary>
public enum PolicyAction
{
    /// <summary>Let it through.</summary>
    Allow,
    /// <summary>Refuse it: block page for HTTP, reset for TCP.</summary>
    Block,
    /// <summary>Warn first; the user may continue, and that is recorded.</summary>
    Caution,
}

/// <summary>Inspection flags a rule sets (<see cref="Gatehouse.Wire.Policy.InspectionFlags"/>).</summary>
[Flags]
public enum InspectFlags
{
    /// <summary>No inspection.</summary>
    None = 0,
    /// <summary><c>log-full-url</c>: log the whole URL, not only the host.</summary>
    LogFullUrl = 1,
    /// <summary><c>tls-inspect</c>: terminate and inspect TLS.</summary>
    TlsInspect = 2,
    /// <summary><c>dlp</c>: data loss prevention on the content.</summary>
    Dlp = 4,
    /// <summary><c>sandbox</c>: detonate downloads in the sandbox.</summary>
    Sandbox = 8,
}

/// <summary>The network a device is on (<see cref="Gatehouse.Wire.Policy.NetworkKinds"/>).</summary>
public enum NetworkKind
{
    /// <summary>Not known: matches no rule that names networks.</summary>
    Unknown,
    /// <summary><c>trusted</c>.</summary>
    Trusted,
    /// <summary><c>untrusted</c>.</summary>
    Untrusted,
    /// <summary><c>vpn</c>.</summary>
    Vpn,
}

/// <summary>
/// The protocol of a flow, as specific as the edge knows it. A rule naming <c>tcp</c> also matches
/// <see cref="Http"/> and <see cref="Https"/> flows (they run over TCP); every other rule protocol
/// matches only flows of that protocol.
/// </summary>
public enum FlowProtocol
{
    /// <summary>Not known: matches no rule that names protocols.</summary>
    Unknown,
    /// <summary><c>tcp</c>.</summary>
    Tcp,
    /// <summary><c>udp</c>.</summary>
    Udp,
    /// <summary><c>http</c> (a request seen in clear or after TLS inspection).</summary>
    Http,
    /// <summary><c>https</c>.</summary>
    Https,
    /// <summary><c>dns</c>.</summary>
    Dns,
}
