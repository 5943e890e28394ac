using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Gatehouse.Wire.Agent;

/// <summary>The commands of the agent's local API.</summary>
public static class AgentCommands
{
    /// <summary>Where the agent stands (anyone may ask).</summary>
    public const string Status = "status";

    /// <summary>Enroll this device (root or the service's own user only).</summary>
    public const string Enroll = "enroll";

    /// <summary>Remove the device's credentials (root or the service's own user only; the app profile's password when it sets one).</summary>
    public const string Logout = "logout";

    /// <summary>Stop sending traffic through Gatehouse until enabled again (root or the service's own user only; the app profile's disable password when it sets one).</summary>
    public const string Disable = "disable";

    /// <summary>Send traffic through Gatehouse again.</summary>
    public const string Enable = "enable";
}

/// <summary>How the agent intercepts applications' traffic, as <c>gatehouse status</c> shows it.</summary>
public static class AgentModes
{
    /// <summary>Applications that use the local proxy (or its PAC file) are intercepted; nothing else.</summary>
    public const string LocalProxy = "local-proxy";

    /// <summary>The agent's nftables table redirects all outbound TCP and DNS to it.</summary>
    public const string Transparent = "transparent";
}

/// <summary>The agent's overall states, in the words <c>gatehouse status</c> shows.</summary>
public static class AgentStates
{
    /// <summary>No device credentials: run <c>gatehouse enroll</c>.</summary>
    public const string NotEnrolled = "not-enrolled";

    /// <summary>Enrolled; the data plane is starting or has no config yet.</summary>
    public const string Starting = "starting";

    /// <summary>Traffic goes through an edge.</summary>
    public const string Connected = "connected";

    /// <summary>No edge answers; the app profile's fail mode applies.</summary>
    public const string EdgesUnreachable = "edges-unreachable";

    /// <summary>The data plane is down and the watchdog is restarting it.</summary>
    public const string Restarting = "restarting";

    /// <summary>The user disabled the agent: traffic goes direct.</summary>
    public const string Disabled = "disabled";

    /// <summary>The forwarding profile sends traffic direct on the network the device is on.</summary>
    public const string Direct = "direct";

    /// <summary>A captive portal is in the way: the agent stands aside for a while so that the user can sign in.</summary>
    public const string CaptivePortal = "captive-portal";

    /// <summary>The tenant's signed DR record is in force: traffic goes through its DR edges under the DR policy.</summary>
    public const string DisasterRecovery = "disaster-recovery";
}

/// <summary>One request to the agent's local API.</summary>
/// <param name="Command">One of <see cref="AgentCommands"/>.</param>
/// <param name="PortalUrl">For <c>enroll</c>: the portal's https address.</param>
/// <param name="Token">For <c>enroll</c>: the enrollment token.</param>
/// <param name="PortalCaPem">For <c>enroll</c>: the portal's TLS certificate (or its CA) to pin; the system roots when null.</param>
/// <param name="Name">For <c>enroll</c>: the device's name; the host name when null.</param>
/// <param name="Password">For <c>logout</c> and <c>disable</c>: the app profile's password for it, when it sets one.</param>
public sealed record AgentRequest(string Command, string? PortalUrl = null, string? Token = null, string? PortalCaPem = null, string? Name = null, string? Password = null);

/// <summary>The answer to an <see cref="AgentRequest"/>.</summary>
/// <param name="Ok">Whether the command was carried out.</param>
/// <param name="Error">Why not, in plain words.</param>
/// <param name="Status">The agent's status (every answer carries it).</param>
public sealed record AgentResponse(bool Ok, string? Error, AgentStatus? Status);

/// <summary>Where the agent stands, as <c>gatehouse status</c> shows it.</summary>
/// <param name="State">One of <see cref="AgentStates"/>.</param>
/// <param name="Summary">One sentence in plain words.</param>
/// <param name="DeviceId">The device's id once enrolled.</param>
/// <param name="TenantId">The tenant's id once enrolled.</param>
/// <param name="PortalUrl">The portal once enrolled.</param>
/// <param name="CertificateNotAfter">When the device certificate expires (it renews itself before).</param>
/// <param name="BundleVersion">The config bundle in force.</param>
/// <param name="PortalReachable">Whether the last call to the portal worked.</param>
/// <param name="Edge">The primary edge (name and address).</param>
/// <param name="EdgeLatencyMs">Its measured latency.</param>
/// <param name="Mode">How traffic is intercepted (<c>local-proxy</c>).</param>
/// <param name="ProxyAddress">The local proxy's address, in local-proxy mode.</param>
/// <param name="Network">The network kind: <c>trusted</c>, <c>untrusted</c> or <c>vpn</c>.</param>
/// <param name="FailMode">What happens when no edge answers: <c>open</c> or <c>closed</c>.</param>
/// <param name="SyntheticRange">The range private-app names resolve to, when the resolver runs.</param>
/// <param name="FlowsOpen">Flows open now.</param>
/// <param name="FlowsTotal">Flows since the data plane started.</param>
/// <param name="FlowsRefused">Flows an edge refused by policy.</param>
/// <param name="BytesUp">Bytes sent by applications.</param>
/// <param name="BytesDown">Bytes received by applications.</param>
/// <param name="LastError">The last thing that went wrong, in plain words; it stays after the trouble ends.</param>
/// <param name="RoleRestarts">How many times the watchdog restarted the data plane.</param>
/// <param name="Content">The pushed content in force, such as <c>bypass 42 (trial)</c>.</param>
/// <param name="TunnelsOpened">Flows an edge answered since the data plane started.</param>
/// <param name="TunnelsFailed">Flows no edge answered since the data plane started.</param>
/// <param name="Dr">The DR record in force, such as <c>on, fail-closed (record version 3)</c>; null outside DR.</param>
/// <param name="LastErrorAt">When <paramref name="LastError"/> happened.</param>
/// <param name="DrWatch">The DR record the agent checks and how often, such as <c>_gatehouse-dr.corp.example every 60 s</c>; null when the tenant has no DR settings.</param>
public sealed record AgentStatus(
    string State,
    string Summary,
    Guid? DeviceId = null,
    Guid? TenantId = null,
    string? PortalUrl = null,
    DateTimeOffset? CertificateNotAfter = null,
    long? BundleVersion = null,
    bool? PortalReachable = null,
    string? Edge = null,
    double? EdgeLatencyMs = null,
    string? Mode = null,
    string? ProxyAddress = null,
    string? Network = null,
    string? FailMode = null,
    string? SyntheticRange = null,
    long FlowsOpen = 0,
    long FlowsTotal = 0,
    long FlowsRefused = 0,
    long BytesUp = 0,
    long BytesDown = 0,
    string? LastError = null,
    int RoleRestarts = 0,
    string? Content = null,
    long TunnelsOpened = 0,
    long TunnelsFailed = 0,
    string? Dr = null,
    DateTimeOffset? LastErrorAt = null,
    string? DrWatch = null);

/// <summary>
/// The framing of the local API on a Unix socket: the client writes one JSON request on one line,
/// the server answers with one JSON line and closes.
/// </summary>
public static class AgentLocalApi
{
    /// <summary>The longest line either side accepts.</summary>
    public const int MaxLineBytes = 64 * 1024;

    /// <summary>The JSON options of the API (web defaults: camelCase), source-generated so that a native-compiled agent needs no reflection.</summary>
    public static JsonSerializerOptions Json => AgentJsonContext.Default.Options;

    /// <summary>Sends <paramref name="request"/> to the agent at <paramref name="socketPath"/> and reads its answer.</summary>
    /// <param name="socketPath">The agent's Unix socket.</param>
    /// <param name="request">The request.</param>
    /// <param name="ct">Cancels the call.</param>
    /// <exception cref="SocketException">Nothing listens at the path, or the connection failed.</exception>
    /// <exception cref="InvalidDataException">The answer is not an <see cref="AgentResponse"/>.</exception>
    public static async Task<AgentResponse> CallAsync(string socketPath, AgentRequest request, CancellationToken ct = default)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await WriteLineAsync(stream, request, AgentJsonContext.Default.AgentRequest, ct);
        var line = await ReadLineAsync(stream, ct) ?? throw new InvalidDataException("The agent closed the connection without answering.");
        return Parse(line, AgentJsonContext.Default.AgentResponse) ?? throw new InvalidDataException("The agent's answer is not valid.");
    }

    /// <summary>Writes <paramref name="value"/> as one JSON line.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="stream">Where to write.</param>
    /// <param name="value">The message.</param>
    /// <param name="type">Its JSON contract (<see cref="AgentJsonContext"/>).</param>
    /// <param name="ct">Cancels the write.</param>
    public static async Task WriteLineAsync<T>(Stream stream, T value, JsonTypeInfo<T> type, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, type);
        await stream.WriteAsync(bytes, ct);
        await stream.WriteAsync("\n"u8.ToArray(), ct);
        await stream.FlushAsync(ct);
    }

    /// <summary>Reads one line (without its end), or null at the end of the stream.</summary>
    /// <param name="stream">Where to read.</param>
    /// <param name="ct">Cancels the read.</param>
    /// <exception cref="InvalidDataException">The line is longer than <see cref="MaxLineBytes"/>.</exception>
    public static async Task<string?> ReadLineAsync(Stream stream, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = new byte[4096];
        using var line = new MemoryStream();
        while (true)
        {
            var read = await stream.ReadAsync(buffer, ct);
            if (read == 0)
            {
                return line.Length == 0 ? null : Encoding.UTF8.GetString(line.GetBuffer(), 0, (int)line.Length);
            }

            var end = Array.IndexOf(buffer, (byte)'\n', 0, read);
            line.Write(buffer, 0, end < 0 ? read : end);
            if (line.Length > MaxLineBytes)
            {
                throw new InvalidDataException($"The message is longer than {MaxLineBytes} bytes.");
            }

            if (end >= 0)
            {
                return Encoding.UTF8.GetString(line.GetBuffer(), 0, (int)line.Length);
            }
        }
    }

    /// <summary>Parses one JSON line; null when it is not a <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="line">The line.</param>
    /// <param name="type">Its JSON contract (<see cref="AgentJsonContext"/>).</param>
    public static T? Parse<T>(string line, JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(line, type);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>The local API's messages, serialised without reflection.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(AgentRequest))]
[JsonSerializable(typeof(AgentResponse))]
[JsonSerializable(typeof(AgentStatus))]
public sealed partial class AgentJsonContext : JsonSerializerContext;
