using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Agent.Names;
using Gatehouse.Agent.Flows;
using Gatehouse.Agent.State;
using Gatehouse.Wire.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Agent.Transparent;

/// <summary>
/// One connection the agent's nftables table redirected to it.
/// </summary>
/// <remarks>
/// <code>
/// SO_ORIGINAL_DST ──► synthetic address? ──► the private app's name
///                 └─► otherwise: SNI of a ClientHello, or Host of an HTTP request, or the address itself
///   ──► FlowOpener (edge, or direct to the original address) ──► relay
/// edge refuses: an HTTP request gets the block page, anything else a TCP reset
/// </code>
/// </remarks>
internal sealed class TransparentSession : ApplicationConnection
{
    /// <summary>How long to wait for the application's first bytes to learn the host name.</summary>
    public static readonly TimeSpan SniffTimeout = TimeSpan.FromMilliseconds(500);

    private readonly FlowOpener _flows;
    private readonly SyntheticAddressSpace _synthetic;
    private readonly AgentState _state;
    private readonly IPEndPoint _listener;

    public TransparentSession(Socket client, FlowOpener flows, SyntheticAddressSpace synthetic, AgentState state, IPEndPoint listener, ILogger logger)
        : base(client, logger)
    {
        _flows = flows;
        _synthetic = synthetic;
        _state = state;
        _listener = listener;
    }

    protected override async Task ServeAsync(CancellationToken ct)
    {
        var original = OriginalDestination.Of(Client);
        if (original is null || original.Equals(_listener))
        {
            // Not redirected: someone connected to the listener itself, which carries nothing.
            Reset();
            return;
        }

        // A private app's synthetic address stands for its name: the name goes to the edge, and
        // there is no real address to go direct to. Anything else may name itself in its first bytes.
        var privateApp = _synthetic.NameOf(original.Address);
        var (sniffedHost, sniffed) = privateApp is null ? await SniffAsync(ct) : (null, SniffStatus.Unknown);
        var host = privateApp ?? sniffedHost ?? original.Address.ToString();
        var flow = await _flows.OpenAsync(host, original.Port, direct: privateApp is null ? original : null, ClientAddress, ct);
        if (flow.Stream is null)
        {
            // A private app's flow went without a look at its first bytes; a refusal looks now, so that HTTP gets the page.
            if (privateApp is not null)
            {
                (_, sniffed) = await SniffAsync(ct);
            }

            await RefuseAsync(flow, sniffed == SniffStatus.Http ? $"http://{host}/" : null, ct);
            return;
        }

        await using (flow.Stream)
        {
            await FlowRelay.RelayAsync(Client, Stream, In, flow, _state, ct);
        }
    }

    /// <summary>Peeks at the first bytes for a host name; nothing is consumed.</summary>
    private async Task<(string? Host, SniffStatus Status)> SniffAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(SniffTimeout);
        var sniffer = new HostSniffer();
        while (true)
        {
            ReadResult read;
            try
            {
                read = await In.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // A protocol where the server speaks first, or a quiet client: the address is all there is.
                return (null, SniffStatus.Unknown);
            }

            var status = sniffer.TryRead(read.Buffer, out var host);
            var enough = status != SniffStatus.NeedMore || read.IsCompleted || read.Buffer.Length >= HostSniffer.MaxBytes;
            In.AdvanceTo(read.Buffer.Start, enough ? read.Buffer.Start : read.Buffer.End);
            if (enough)
            {
                return status is SniffStatus.Tls or SniffStatus.Http ? (host, status) : (null, SniffStatus.Unknown);
            }
        }
    }

    /// <summary>A block page for a plain-HTTP request (<paramref name="url"/>), a TCP reset for anything else.</summary>
    private async Task RefuseAsync(OpenedFlow flow, string? url, CancellationToken ct)
    {
        if (url is null || flow.Status != 403)
        {
            Reset();
            return;
        }

        var body = Encoding.UTF8.GetBytes(ProxyPages.BlockPage(url, flow.Rule, flow.ReasonText, flow.Reference ?? string.Empty));
        var head = ProxyPages.ResponseHead(403, "Forbidden", "text/html; charset=utf-8", body.Length, flow.RefusalHeaders, close: true);
        await Stream.WriteAsync(Encoding.ASCII.GetBytes(head), ct);
        await Stream.WriteAsync(body, ct);
    }
}
