using System.Net;
using System.Net.Sockets;
using Gatehouse.Agent.Edges;
using Gatehouse.Agent.State;
using Gatehouse.Tunnel;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Sockets;

namespace Gatehouse.Agent.Flows;

/// <summary>A flow that was opened, or why not: the edge's refusal (403 with rule and reason), or 502/503.</summary>
/// <param name="Stream">
/// The flow's bytes both ways; null when it was not opened. An <see cref="Tunnel.IFlowStream"/> (a half-close and a cut
/// reach the destination) unless it is an extended CONNECT tunnel stream, which carries neither.
/// </param>
/// <param name="Status">200, or the refusal's HTTP status.</param>
/// <param name="Rule">The rule that refused it.</param>
/// <param name="Reason">Why, in plain words.</param>
/// <param name="Reference">The edge's reference for the decision.</param>
/// <param name="Direct">Whether it goes direct rather than through an edge.</param>
internal sealed record OpenedFlow(Stream? Stream, int Status, string? Rule, string? Reason, string? Reference, bool Direct)
{
    /// <summary>Why, in plain words, with a stand-in when the edge gave none.</summary>
    public string ReasonText => Reason ?? "the edge gave no reason";

    /// <summary>
    /// The headers a refusal carries to the application: the rule, the reason and the edge's reference. No rule or
    /// reference header when there is none (no rule decided, no edge answered): an empty one reads as a rule named "".
    /// </summary>
    public (string Name, string Value)[] RefusalHeaders =>
    [
        .. Rule is { } rule ? [("Gatehouse-Rule", rule)] : Array.Empty<(string, string)>(),
        ("Gatehouse-Reason", ReasonText),
        .. Reference is { } reference ? [("Gatehouse-Reference", reference)] : Array.Empty<(string, string)>(),
    ];
}

/// <summary>
/// Opens an application's flow the way the agent's state says: through an edge, or direct when the
/// agent stands aside (captive portal, disabled, forwarding <c>none</c>) or no edge answers and the
/// device fails open. Shared by the local proxy and the transparent listener.
/// </summary>
internal sealed class FlowOpener
{
    private readonly EdgeSet _edges;
    private readonly AgentState _state;
    private readonly int? _socketMark;
    private Updates.BypassMatcher? _bypass;

    /// <param name="edges">The edges.</param>
    /// <param name="state">The agent's state.</param>
    /// <param name="socketMark">The mark of direct sockets, so that the agent's redirect rules let them pass.</param>
    public FlowOpener(EdgeSet edges, AgentState state, int? socketMark)
    {
        _edges = edges;
        _state = state;
        _socketMark = socketMark;
    }

    /// <summary>The bypass list in force (pushed content): destinations on it go direct. Null for none.</summary>
    public Updates.BypassMatcher? Bypass
    {
        get => Volatile.Read(ref _bypass);
        set => Volatile.Write(ref _bypass, value);
    }

    /// <summary>Opens a flow to <paramref name="host"/>:<paramref name="port"/>.</summary>
    /// <param name="host">The destination as the edge should see it: a name when one is known.</param>
    /// <param name="port">The destination port.</param>
    /// <param name="direct">Where a direct flow connects (the application's original address); <paramref name="host"/> when null.</param>
    /// <param name="clientAddress">The application's address, for the edge's log.</param>
    /// <param name="ct">Cancels opening.</param>
    public async Task<OpenedFlow> OpenAsync(string host, int port, IPEndPoint? direct, string clientAddress, CancellationToken ct)
    {
        if (_state.DirectReason() is { } why)
        {
            return await OpenDirectAsync(host, port, direct, why, ct);
        }

        if (Volatile.Read(ref _bypass) is { } bypass && bypass.Match(host, port) is { } note)
        {
            return await OpenDirectAsync(host, port, direct, $"bypass list {bypass.Version}: {note}", ct);
        }

        var metadata = new TunnelFlowMetadata(FlowId: Guid.NewGuid().ToString("N"), Network: _state.Network, ClientAddress: clientAddress);
        var opened = await _edges.OpenAsync(host, port, metadata, ct);
        if (opened.Outcome == EdgeOpenOutcome.Answered)
        {
            var result = opened.Result!;
            if (result.Status == 403 && result.Rule == Wire.Api.DrPolicy.OutsideRule && _state.DrMode == Wire.Dr.DrModes.Open)
            {
                // In DR, fail-open: what the DR policy does not cover goes direct rather than nowhere.
                return await OpenDirectAsync(host, port, direct, "outside the DR policy (DR fail-open)", ct);
            }

            if (result.Status == 403)
            {
                _state.FlowRefused();
            }

            return new OpenedFlow(result.Stream, result.Status, result.Rule, result.Reason, result.Reference, Direct: false);
        }

        if (_state.FailMode != FailModes.Open)
        {
            return new OpenedFlow(null, 503, null, $"no edge answers and this device fails closed ({opened.Error})", null, Direct: false);
        }

        return await OpenDirectAsync(host, port, direct, "no edge answers (fail-open)", ct);
    }

    private async Task<OpenedFlow> OpenDirectAsync(string host, int port, IPEndPoint? direct, string why, CancellationToken ct)
    {
        try
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                SocketMark.ApplyIfSet(socket, _socketMark);
                if (direct is not null)
                {
                    await socket.ConnectAsync(direct, ct);
                }
                else
                {
                    await socket.ConnectAsync(host, port, ct);
                }
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            return new OpenedFlow(new DirectFlowStream(socket), 200, null, null, null, Direct: true);
        }
        catch (SocketException e)
        {
            return new OpenedFlow(null, 502, null, $"{why}; going direct failed: {e.Message}", null, Direct: true);
        }
    }
}
