using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Trust.Certificates;
using Gatehouse.Wire.Tunnel;

namespace Gatehouse.Tunnel;

/// <summary>What the agent tells the edge about a flow (and the edge a connector).</summary>
/// <param name="FlowId">The agent's id of the flow, for correlating logs.</param>
/// <param name="Network"><c>trusted</c>, <c>untrusted</c> or <c>vpn</c>.</param>
/// <param name="Posture">Posture checks that hold.</param>
/// <param name="ClientAddress">The application socket's address on the device.</param>
/// <param name="Segment">The app segment of a brokered flow (edge to connector).</param>
/// <param name="UserId">The user of a brokered flow (edge to connector).</param>
/// <param name="DeviceId">The device of a brokered flow (edge to connector).</param>
/// <param name="RelayTicket">The ticket of a relayed flow (edge to connector, <see cref="RelayProtocol"/>).</param>
/// <param name="DeviceFingerprint">The certificate the connector must see at the other end of a relayed flow (edge to connector).</param>
public sealed record TunnelFlowMetadata(string? FlowId = null, string? Network = null, IReadOnlyList<string>? Posture = null, string? ClientAddress = null, string? Segment = null, string? UserId = null, string? DeviceId = null, string? RelayTicket = null, string? DeviceFingerprint = null);

/// <summary>How a flow's HTTP/2 stream is opened (<see cref="TunnelProtocol"/>).</summary>
public enum TunnelFlowForm
{
    /// <summary>A full-duplex <c>POST</c>: the end of the request body is the TCP half-close.</summary>
    Post,

    /// <summary>An extended CONNECT (RFC 8441) with <c>:protocol = connect-tcp</c>; no half-close.</summary>
    ExtendedConnect,
}

/// <summary>An opened flow (<see cref="Stream"/> set), or the edge's refusal (status, rule, reason, reference).</summary>
/// <param name="Stream">The flow's bytes both ways; dispose it to end the flow.</param>
/// <param name="Status">The edge's status: 200 when opened; 0 when no edge answered (<see cref="EdgeUnreachable"/>).</param>
/// <param name="Rule">The rule that refused, if any.</param>
/// <param name="Reason">Why the flow was refused or failed.</param>
/// <param name="Reference">The reference of the edge's record.</param>
/// <param name="RelayAccepted">A connector's answer to a flow with a ticket: it will dial the edge with it, and there is no stream.</param>
public sealed record TunnelOpenResult(Stream? Stream, int Status, string? Rule = null, string? Reason = null, string? Reference = null, bool RelayAccepted = false)
{
    /// <summary>Whether the flow is open.</summary>
    public bool IsOpen => Stream is not null;

    /// <summary>Whether the edge itself could not be reached or refused the connection: another edge may carry the flow.</summary>
    public bool EdgeUnreachable => Status == 0;
}

/// <summary>
/// Opens flows through an edge: HTTP/2 over TLS 1.3 with the device certificate, one stream per flow
/// (a full-duplex POST by default, or an extended CONNECT <c>connect-tcp</c>).
/// The edge must present a certificate of the same tenant's CA whose identity is an edge of that tenant.
/// Thread-safe; flows share connections (several when one fills up).
/// </summary>
public sealed class TunnelClient : IDisposable
{
    /// <summary>
    /// How much of a flow the edge may send before the device has read it: what the device holds for a flow its
    /// application is not reading. HttpClient widens a flow's window (up to 16 MiB) when the application reads
    /// faster than the round trip lets this much through.
    /// </summary>
    public const int InitialStreamWindowBytes = 1024 * 1024;

    private readonly HttpMessageInvoker _invoker;
    private readonly Uri _edge;
    private readonly RelayEnd? _relayEnd;

    /// <summary>Creates a client for one edge.</summary>
    /// <param name="edge">The edge's tunnel address, HOST:PORT.</param>
    /// <param name="deviceCertificate">The device's certificate with its private key.</param>
    /// <param name="tenantCa">The tenant CA the edge's certificate must chain to.</param>
    /// <param name="tenantId">The tenant the edge must belong to.</param>
    /// <param name="socketMark">The Linux socket mark of the connections to the edge, so that the agent's own redirect rules let them pass (<see cref="Wire.Sockets.SocketMark"/>).</param>
    public TunnelClient(string edge, X509Certificate2 deviceCertificate, X509Certificate2 tenantCa, string tenantId, int? socketMark = null)
    {
        ArgumentNullException.ThrowIfNull(edge);
        ArgumentNullException.ThrowIfNull(deviceCertificate);
        ArgumentNullException.ThrowIfNull(tenantCa);
        _edge = new Uri($"https://{edge}");
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            InitialHttp2StreamWindowSize = InitialStreamWindowBytes,
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = SslProtocols.Tls13,
                ClientCertificates = [deviceCertificate],
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, certificate, _, _) => IsTenantEdge(certificate as X509Certificate2, tenantCa, tenantId),
            },
        };

        // The handler puts its TLS stream on top: records cross the socket several at a time.
        var connect = Wire.Sockets.SocketMark.ConnectCallback(socketMark);
        handler.ConnectCallback = async (context, ct) => new RecordBatchingStream(await connect(context, ct));

        _invoker = new HttpMessageInvoker(handler);
        _relayEnd = new RelayEnd(new Lazy<SslStreamCertificateContext>(() => SslStreamCertificateContext.Create(deviceCertificate, [tenantCa], offline: true)), tenantCa, tenantId, socketMark);
    }

    /// <summary>
    /// Whether flows offer the edge to relay them end to end (<see cref="RelayProtocol"/>): a private app's flow
    /// then runs TLS with the connector through the edge instead of on an HTTP/2 stream. Only a client with a
    /// device certificate can; the edge decides which flows it relays.
    /// </summary>
    public bool OfferRelay { get; init; }

    /// <summary>The device's end of relayed flows, when this client offers them (it needs the device certificate).</summary>
    private RelayEnd? Relaying => OfferRelay ? _relayEnd : null;

    /// <summary>
    /// Opens flows through <paramref name="handler"/>, whose requests go to <paramref name="origin"/>: the edge's
    /// side of a connector link, HTTP/2 over a connection the connector dialled.
    /// </summary>
    /// <param name="handler">Sends the requests; the client owns it.</param>
    /// <param name="origin">The scheme and authority of every request.</param>
    public TunnelClient(HttpMessageHandler handler, Uri origin)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(origin);
        _edge = origin;
        _invoker = new HttpMessageInvoker(handler);
    }

    /// <summary>
    /// Opens a flow. The stream carries bytes both ways until disposed; a <see cref="TunnelFlowForm.Post"/>
    /// flow's stream is a <see cref="HalfCloseStream"/>, whose <see cref="HalfCloseStream.CompleteWrites"/>
    /// carries a TCP half-close to the destination.
    /// </summary>
    /// <param name="host">The destination host name (a private app's name travels as a name) or address.</param>
    /// <param name="port">The destination port.</param>
    /// <param name="metadata">What the edge should know about the flow.</param>
    /// <param name="form">
    /// How the stream is opened. <see cref="TunnelFlowForm.Post"/> is the default: it carries half-close.
    /// Both forms send every write at once and carry a bulk download at the same speed (docs/edge.md,
    /// "Agent tunnels").
    /// </param>
    /// <param name="ct">Cancels opening.</param>
    public Task<TunnelOpenResult> OpenAsync(string host, int port, TunnelFlowMetadata? metadata = null, TunnelFlowForm form = TunnelFlowForm.Post, CancellationToken ct = default)
    {
        if (form == TunnelFlowForm.ExtendedConnect)
        {
            var connect = NewRequest(HttpMethod.Connect, host, port, metadata);
            connect.Headers.Protocol = TunnelProtocol.ConnectProtocol;
            return SendAsync(connect, requestBody: null, ct);
        }

        var body = new DuplexContent();
        var post = NewRequest(HttpMethod.Post, host, port, metadata);
        post.Content = body;
        return SendAsync(post, body, ct);
    }

    private HttpRequestMessage NewRequest(HttpMethod method, string host, int port, TunnelFlowMetadata? metadata)
    {
        var request = new HttpRequestMessage(method, new Uri(_edge, TunnelProtocol.PathFor(host, port)))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        if (metadata?.FlowId is { } flowId)
        {
            request.Headers.TryAddWithoutValidation(TunnelProtocol.FlowIdHeader, flowId);
        }

        if (metadata?.Network is { } network)
        {
            request.Headers.TryAddWithoutValidation(TunnelProtocol.NetworkHeader, network);
        }

        if (metadata?.Posture is { Count: > 0 } posture)
        {
            request.Headers.TryAddWithoutValidation(TunnelProtocol.PostureHeader, string.Join(',', posture));
        }

        if (metadata?.ClientAddress is { } client)
        {
            request.Headers.TryAddWithoutValidation(TunnelProtocol.ClientAddressHeader, client);
        }

        if (metadata?.Segment is { } segment)
        {
            request.Headers.TryAddWithoutValidation(ConnectorProtocol.SegmentHeader, segment);
        }

        if (metadata?.UserId is { } user)
        {
            request.Headers.TryAddWithoutValidation(ConnectorProtocol.UserHeader, user);
        }

        if (metadata?.DeviceId is { } device)
        {
            request.Headers.TryAddWithoutValidation(ConnectorProtocol.DeviceHeader, device);
        }

        if (metadata?.RelayTicket is { } ticket)
        {
            request.Headers.TryAddWithoutValidation(RelayProtocol.TicketHeader, ticket);
            request.Headers.TryAddWithoutValidation(RelayProtocol.DeviceFingerprintHeader, metadata.DeviceFingerprint ?? string.Empty);
        }

        if (Relaying is not null && method == HttpMethod.Post)
        {
            request.Headers.TryAddWithoutValidation(RelayProtocol.RelayHeader, RelayProtocol.Offer);
        }

        return request;
    }

    private async Task<TunnelOpenResult> SendAsync(HttpRequestMessage request, DuplexContent? requestBody, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await _invoker.SendAsync(request, ct);
        }
        catch (Exception e) when (e is HttpRequestException or HttpIOException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            // A refused handshake can surface as the request body's cancellation rather than as an HttpRequestException.
            requestBody?.Complete();
            request.Dispose();
            return new TunnelOpenResult(null, Status: 0, Reason: $"the edge could not be reached or refused the connection: {e.Message}");
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            // End the request body too, or the refused stream stays half open on both sides.
            requestBody?.Complete();
            using (response)
            {
                return new TunnelOpenResult(
                    null,
                    (int)response.StatusCode,
                    Header(response.Headers, TunnelProtocol.RuleHeader),
                    Header(response.Headers, TunnelProtocol.ReasonHeader) ?? response.ReasonPhrase,
                    Header(response.Headers, TunnelProtocol.ReferenceHeader));
            }
        }

        if (Header(response.Headers, RelayProtocol.RelayHeader) == RelayProtocol.Accepted)
        {
            // A connector took the ticket: the flow's bytes go the relayed way, not on this stream.
            requestBody?.Complete();
            response.Dispose();
            return new TunnelOpenResult(null, 200, RelayAccepted: true);
        }

        if (Relaying is { } end && Header(response.Headers, RelayProtocol.TicketHeader) is { } ticketText)
        {
            requestBody?.Complete();
            var connectorId = Header(response.Headers, RelayProtocol.ConnectorHeader);
            response.Dispose();
            return await ConnectRelayedAsync(end, ticketText, connectorId, ct);
        }

        var down = await response.Content.ReadAsStreamAsync(ct);
        Stream stream = requestBody is null ? new ConnectStream(down, response) : new HalfCloseStream(down, requestBody, response);
        return new TunnelOpenResult(stream, 200);
    }

    /// <summary>The device's end of a relayed flow: the edge answered with a ticket and the connector it chose.</summary>
    private async Task<TunnelOpenResult> ConnectRelayedAsync(RelayEnd end, string ticketText, string? connectorId, CancellationToken ct)
    {
        if (!RelayProtocol.TryDecodeTicket(ticketText, out var ticket) || connectorId is null)
        {
            return new TunnelOpenResult(null, 502, Reason: "the edge answered a relayed flow without a valid ticket or connector");
        }

        try
        {
            var stream = await RelayedFlow.ConnectAsDeviceAsync(_edge.DnsSafeHost, _edge.Port, ticket, connectorId, end.Device.Value, end.TenantCa, end.TenantId, end.SocketMark, ct);
            return new TunnelOpenResult(stream, 200);
        }
        catch (Exception e) when (e is SocketException or IOException or AuthenticationException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return new TunnelOpenResult(null, 502, Reason: $"the flow relayed to connector {connectorId} could not be set up: {e.Message}");
        }
    }

    private static string? Header(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? string.Join(',', values) is { Length: > 0 } value ? value : null : null;

    /// <summary>Whether <paramref name="certificate"/> chains to the tenant CA and names an edge of the tenant.</summary>
    public static bool IsTenantEdge(X509Certificate2? certificate, X509Certificate2 tenantCa, string tenantId)
    {
        ArgumentNullException.ThrowIfNull(tenantCa);
        if (certificate is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(tenantCa);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate)
            && CertificateIdentity.FromCertificate(certificate) is { Kind: IdentityKinds.Edge } identity
            && identity.TenantId == tenantId;
    }

    /// <summary>Closes the connections.</summary>
    public void Dispose() => _invoker.Dispose();

    /// <summary>What the device's end of a relayed flow needs.</summary>
    /// <param name="Device">The device certificate as a handshake presents it, made on first use (a client certificate given as such costs a chain build per handshake).</param>
    /// <param name="TenantCa">The tenant CA.</param>
    /// <param name="TenantId">The tenant.</param>
    /// <param name="SocketMark">The mark of the agent's own sockets.</param>
    private sealed record RelayEnd(Lazy<SslStreamCertificateContext> Device, X509Certificate2 TenantCa, string TenantId, int? SocketMark);

    /// <summary>
    /// An extended CONNECT flow's stream, the response's: each write is sent at once, as on a socket (HttpClient
    /// holds what is written to a CONNECT stream until it is flushed, so a relay that copies without flushing,
    /// as <see cref="Stream.CopyToAsync(Stream)"/> does, never sent a request and waited for its answer), and
    /// disposing it disposes the response.
    /// </summary>
    private sealed class ConnectStream(Stream inner, HttpResponseMessage response) : DelegatingStream(inner)
    {
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Inner.WriteAsync(buffer, cancellationToken);
            await Inner.FlushAsync(cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count)
        {
            Inner.Write(buffer, offset, count);
            Inner.Flush();
        }

        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            if (disposing)
            {
                response.Dispose();
            }
        }
    }
}

/// <summary>A POST flow's stream: reads come from the response body, writes go to the request body.</summary>
public sealed class HalfCloseStream : Stream, IFlowStream
{
    private readonly Stream _down;
    private readonly DuplexContent _up;
    private readonly HttpResponseMessage _response;

    internal HalfCloseStream(Stream down, DuplexContent up, HttpResponseMessage response)
    {
        _down = down;
        _up = up;
        _response = response;
    }

    /// <summary>Ends the request body: the edge shuts down sending towards the destination (TCP half-close); reading goes on.</summary>
    public void CompleteWrites() => _up.Complete();

    /// <inheritdoc />
    ValueTask IFlowStream.CompleteWritesAsync(CancellationToken ct)
    {
        CompleteWrites();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Cuts the flow while the request body is open: the body fails instead of ending, and HttpClient resets the
    /// stream (RST_STREAM) rather than ending it, so the edge cuts the destination; reading fails from here on.
    /// </summary>
    public void Reset() => _up.Abort();

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanWrite => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await _down.ReadAsync(buffer, cancellationToken);
        }
        catch (IOException)
        {
            // The edge reset the flow: the request body is over too.
            _up.Complete();
            throw;
        }
    }

    /// <inheritdoc />
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _up.WriteAsync(buffer, cancellationToken);

    /// <inheritdoc />
    public override Task FlushAsync(CancellationToken cancellationToken) => _up.FlushAsync(cancellationToken);

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => _down.Read(buffer, offset, count);

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _up.Complete();
            _down.Dispose();
            _response.Dispose();
        }

        base.Dispose(disposing);
    }
}
