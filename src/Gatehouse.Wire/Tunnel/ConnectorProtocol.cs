using System.Text.Json.Serialization;

namespace Gatehouse.Wire.Tunnel;

/// <summary>
/// The link between an app connector and an edge. The connector dials the edge's tunnel listener (TLS 1.3,
/// mutual, ALPN <see cref="ApplicationProtocol"/>) and then serves HTTP/2 on that connection, roles reversed:
/// the edge sends the requests. A private flow is one POST stream at <see cref="TunnelProtocol.PathFor"/>,
/// exactly as from an agent to the edge (full duplex, half-close by the end of the request body), answered
/// 200 once the connector reached the app, or a refusal with <see cref="TunnelProtocol.ReasonHeader"/>.
/// The edge asks <see cref="StatusPath"/> every second for the connector's load and its servers' health.
/// A flow request that carries a <see cref="RelayProtocol.TicketHeader"/> asks for the flow relayed end to end
/// instead: the connector answers 200 with <see cref="RelayProtocol.RelayHeader"/> <c>accepted</c> and meets the
/// device at the edge (<see cref="RelayProtocol"/>).
/// </summary>
public static class ConnectorProtocol
{
    /// <summary>The ALPN protocol id of a connector link (an agent offers <c>h2</c>).</summary>
    public const string ApplicationProtocol = "gatehouse-connector/1";

    /// <summary>GET: the connector's <see cref="ConnectorStatusReport"/>.</summary>
    public const string StatusPath = "/.well-known/gatehouse/connector/status";

    /// <summary>The app segment the edge matched the flow to.</summary>
    public const string SegmentHeader = "gatehouse-segment";

    /// <summary>The user the flow belongs to (for the connector's log).</summary>
    public const string UserHeader = "gatehouse-user";

    /// <summary>The device the flow comes from (for the connector's log).</summary>
    public const string DeviceHeader = "gatehouse-device";
}

/// <summary>What a connector says of itself, to the edges over its links and to the portal.</summary>
/// <param name="ConnectorId">Its id (the subject of its certificate).</param>
/// <param name="Version">Its program version.</param>
/// <param name="ActiveFlows">Flows open through it now.</param>
/// <param name="Servers">The last health check of every app server it checks.</param>
/// <param name="Edges">The edges it holds a link to.</param>
/// <remarks>Unknown fields are skipped, not refused: a node newer than its portal may add one (docs/operations.md, "Upgrading").</remarks>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record ConnectorStatusReport(string ConnectorId, string Version, int ActiveFlows, IReadOnlyList<ServerHealthDto> Servers, IReadOnlyList<string> Edges);

/// <summary>The last health check of one app server on one port.</summary>
/// <param name="Segment">The app segment it serves.</param>
/// <param name="Host">The name or address the segment or server group gives.</param>
/// <param name="Address">The address the check reached (or tried).</param>
/// <param name="Port">The port checked.</param>
/// <param name="Healthy">Whether the check passed.</param>
/// <param name="Detail">What the check saw: <c>connected</c>, an HTTP status, or the error.</param>
/// <param name="CheckedAt">When.</param>
/// <remarks>Unknown fields are skipped, not refused: a node newer than its portal may add one (docs/operations.md, "Upgrading").</remarks>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record ServerHealthDto(string Segment, string Host, string Address, int Port, bool Healthy, string Detail, DateTimeOffset CheckedAt);
