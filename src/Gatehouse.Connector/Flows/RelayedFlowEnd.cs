using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Connector.Links;
using Gatehouse.Flows;
using Gatehouse.Tunnel;

namespace Gatehouse.Connector.Flows;

/// <summary>
/// The connector's end of relayed private flows (<see cref="Wire.Tunnel.RelayProtocol"/>): once the app is
/// connected and the edge has its answer, it dials the edge with the ticket, runs TLS as the server for the
/// device the edge named, and carries the app's bytes until both directions end.
/// </summary>
internal sealed class RelayedFlowEnd
{
    private readonly Func<SslStreamCertificateContext> _certificate;
    private readonly X509Certificate2 _tenantCa;
    private readonly string _tenantId;
    private readonly FlowRegistry _flows;
    private readonly ILogger _logger;

    public RelayedFlowEnd(Func<SslStreamCertificateContext> certificate, X509Certificate2 tenantCa, string tenantId, FlowRegistry flows, ILogger logger)
    {
        _certificate = certificate;
        _tenantCa = tenantCa;
        _tenantId = tenantId;
        _flows = flows;
        _logger = logger;
    }

    /// <summary>Starts carrying <paramref name="app"/> (which it now owns) to the device through <paramref name="edge"/>; returns at once.</summary>
    /// <param name="edge">The edge whose link asked for the flow.</param>
    /// <param name="ticket">The flow's ticket.</param>
    /// <param name="deviceFingerprint">The device certificate the other end must present.</param>
    /// <param name="app">The connection to the app.</param>
    /// <param name="what">The flow, for the log: host and port.</param>
    public void Start(LinkedEdge edge, byte[] ticket, string deviceFingerprint, SocketPipe app, string what)
    {
        // The flow outlives the link's request that asked for it: it is counted and drained on its own.
        var flow = _flows.Open();
        _ = RunAsync(edge, ticket, deviceFingerprint, app, flow, what);
    }

    private async Task RunAsync(LinkedEdge edge, byte[] ticket, string deviceFingerprint, SocketPipe app, OpenFlow flow, string what)
    {
        using var _ = flow;
        await using var __ = app;
        RelayedStream tls;
        try
        {
            tls = await RelayedFlow.AcceptAsConnectorAsync(edge.Host, edge.Port, ticket, deviceFingerprint, _certificate(), _tenantCa, _tenantId, flow.Cancellation);
        }
        catch (Exception e) when (e is SocketException or IOException or AuthenticationException or OperationCanceledException)
        {
            FlowLog.RelayFailed(_logger, what, $"{edge.Host}:{edge.Port}", e.Message);
            return;
        }

        await using (tls)
        {
            // The device is the relay's client and the app its destination, as on a flow carried by the link's stream:
            // the app's bytes are received straight into the memory they are encrypted from, with no pipe of the
            // socket's own between (bench/connector.sh: 1.7–2.0 s of the connector's CPU per GB against 1.8–2.3).
            // The app's end of sending becomes the TLS close_notify towards the device.
            await using var device = new StreamPipe(tls, waitWithoutBuffer: true);
            Task? closed = null;
            // A cut flow resets the app's connection (the relay sees to it) and the device's.
            await Relay.RunAsync(device, app, flow, () => closed = tls.CompleteWritesAsync());
            if (flow.WasCut)
            {
                // The app reset its connection, the device's end broke, or the flow was cut here: the device must see a
                // cut, not an end (TLS reads a FIN without close_notify as one).
                tls.Reset();
            }

            if (closed is not null)
            {
                try
                {
                    await closed;
                }
                catch (Exception e) when (Relay.IsEndOfFlow(e))
                {
                    // The device went first, or the flow was cut.
                }
            }
        }
    }
}
