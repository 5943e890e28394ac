using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Trust.Certificates;
using Gatehouse.Wire.Tunnel;

namespace Gatehouse.Tunnel;

/// <summary>
/// The two ends of a relayed private flow (<see cref="RelayProtocol"/>): each dials the edge's tunnel port,
/// sends its preamble, and then runs TLS 1.3 with the other end through the edge, the device as client and
/// the connector as server, each checking that the other is exactly who the edge named.
/// </summary>
public static class RelayedFlow
{
    /// <summary>How long dialling the edge and the end-to-end handshake may take.</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The device's end: dials <paramref name="host"/>:<paramref name="port"/>, presents the ticket, and authenticates the connector.</summary>
    /// <param name="host">The edge's tunnel host.</param>
    /// <param name="port">The edge's tunnel port.</param>
    /// <param name="ticket">The ticket from the edge's answer.</param>
    /// <param name="connectorId">The connector the edge named: its certificate must name it.</param>
    /// <param name="device">The device certificate, with its key and the tenant CA (<see cref="SslStreamCertificateContext"/>: made once, not per handshake).</param>
    /// <param name="tenantCa">The tenant CA both certificates chain to.</param>
    /// <param name="tenantId">The tenant.</param>
    /// <param name="socketMark">The mark of the agent's own sockets, so that its redirect rules let them pass.</param>
    /// <param name="ct">Cancels it.</param>
    /// <exception cref="AuthenticationException">The other end is not that connector, or refused the device.</exception>
    public static async Task<RelayedStream> ConnectAsDeviceAsync(string host, int port, byte[] ticket, string connectorId, SslStreamCertificateContext device, X509Certificate2 tenantCa, string tenantId, int? socketMark, CancellationToken ct)
    {
        var options = new SslClientAuthenticationOptions
        {
            EnabledSslProtocols = SslProtocols.Tls13,
            ApplicationProtocols = [new SslApplicationProtocol(RelayProtocol.ApplicationProtocol)],
            ClientCertificateContext = device,
            CertificateChainPolicy = TenantChainPolicy(tenantCa),
            RemoteCertificateValidationCallback = (_, certificate, chain, _) => IsPeer(certificate as X509Certificate2, chain, tenantCa, tenantId, IdentityKinds.Connector, identity => identity.SubjectId == connectorId),
        };
        return await OpenAsync(host, port, RelaySide.Device, ticket, socketMark, (tls, token) => tls.AuthenticateAsClientAsync(options, token), ct);
    }

    /// <summary>The connector's end: dials the edge, presents the ticket, and authenticates the device the edge named.</summary>
    /// <param name="host">The edge's tunnel host (the edge whose link asked for the flow).</param>
    /// <param name="port">The edge's tunnel port.</param>
    /// <param name="ticket">The ticket from the edge's request.</param>
    /// <param name="deviceFingerprint">The SHA-256 of the device certificate the edge admitted (<see cref="RelayProtocol.Fingerprint"/>).</param>
    /// <param name="connector">The connector's certificate, with its key and the tenant CA.</param>
    /// <param name="tenantCa">The tenant CA both certificates chain to.</param>
    /// <param name="tenantId">The tenant.</param>
    /// <param name="ct">Cancels it.</param>
    /// <exception cref="AuthenticationException">The other end is not that device, or sent a handshake that is not TLS 1.3 or does not parse.</exception>
    /// <exception cref="IOException">The connection broke during the handshake.</exception>
    /// <exception cref="SocketException">The edge could not be reached.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled or the handshake took longer than <see cref="HandshakeTimeout"/>.</exception>
    public static async Task<RelayedStream> AcceptAsConnectorAsync(string host, int port, byte[] ticket, string deviceFingerprint, SslStreamCertificateContext connector, X509Certificate2 tenantCa, string tenantId, CancellationToken ct)
    {
        var options = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = connector,
            EnabledSslProtocols = SslProtocols.Tls13,
            ApplicationProtocols = [new SslApplicationProtocol(RelayProtocol.ApplicationProtocol)],
            ClientCertificateRequired = true,
            CertificateChainPolicy = TenantChainPolicy(tenantCa),

            // The edge checked revocation and the access policy; here it must be the very certificate it checked.
            RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
                certificate is X509Certificate2 client
                && RelayProtocol.Fingerprint(client) == deviceFingerprint
                && IsPeer(client, chain, tenantCa, tenantId, IdentityKinds.Device, _ => true),
        };
        return await OpenAsync(host, port, RelaySide.Connector, ticket, socketMark: null, (tls, token) => tls.AuthenticateAsServerAsync(options, token), ct);
    }

    /// <summary>
    /// Whether <paramref name="certificate"/> names a <paramref name="kind"/> of the tenant that <paramref name="accept"/>
    /// accepts, and <paramref name="chain"/> (built by the handshake under <see cref="TenantChainPolicy"/>) leads from it to
    /// the tenant CA. Key usages are not asked: a connector's certificate is for client authentication (its links), and
    /// the identity in it is what counts.
    /// </summary>
    public static bool IsPeer(X509Certificate2? certificate, X509Chain? chain, X509Certificate2 tenantCa, string tenantId, string kind, Func<CertificateIdentity, bool> accept)
    {
        ArgumentNullException.ThrowIfNull(tenantCa);
        ArgumentNullException.ThrowIfNull(accept);
        if (certificate is null || chain is null || chain.ChainElements.Count < 2
            || !chain.ChainElements[0].Certificate.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span)
            || !chain.ChainElements[^1].Certificate.RawDataMemory.Span.SequenceEqual(tenantCa.RawDataMemory.Span))
        {
            return false;
        }

        foreach (var status in chain.ChainStatus)
        {
            if (status.Status is not (X509ChainStatusFlags.NoError or X509ChainStatusFlags.NotValidForUsage))
            {
                return false;
            }
        }

        return CertificateIdentity.FromCertificate(certificate) is { } identity
            && identity.Kind == kind
            && identity.TenantId == tenantId
            && accept(identity);
    }

    /// <summary>How the handshake builds the other end's chain: to the tenant CA alone, no revocation lookups (the edge holds revocation).</summary>
    public static X509ChainPolicy TenantChainPolicy(X509Certificate2 tenantCa)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        policy.CustomTrustStore.Add(tenantCa);
        return policy;
    }

    private static async Task<RelayedStream> OpenAsync(string host, int port, RelaySide side, byte[] ticket, int? socketMark, Func<SslStream, CancellationToken, Task> handshake, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(HandshakeTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            Wire.Sockets.SocketMark.ApplyIfSet(socket, socketMark);
            await socket.ConnectAsync(host, port, timeout.Token);
            await socket.SendAsync(RelayProtocol.Preamble(side, ticket), SocketFlags.None, timeout.Token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var records = new RecordBatchingStream(new NetworkStream(socket, ownsSocket: true));
        var tls = new SslStream(records, leaveInnerStreamOpen: false);
        try
        {
            await handshake(tls, timeout.Token);
        }
        catch (ArgumentException e)
        {
            // SslStream's own parser throws ArgumentOutOfRangeException on some malformed ClientHellos (.NET 10: a
            // handshake length that ends inside the extensions' length). It is a failed handshake like any other, and
            // callers catch those; an exception they do not expect would end a fire-and-forget flow unlogged.
            await tls.DisposeAsync();
            throw new AuthenticationException($"The TLS handshake failed on a malformed handshake message: {e.Message}", e);
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }

        // From here on, what is written between two flushes crosses the edge in one send.
        records.BatchWrites = true;
        return new RelayedStream(tls, records, socket);
    }
}

/// <summary>
/// A relayed flow's end-to-end TLS stream. <see cref="CompleteWritesAsync"/> is the TCP half-close of the
/// application it carries (a TLS close_notify: the other end reads its end, and reading here goes on).
/// </summary>
public sealed class RelayedStream : DelegatingStream, IFlowStream
{
    private readonly SslStream _tls;
    private readonly RecordBatchingStream _records;
    private readonly Socket _socket;

    internal RelayedStream(SslStream tls, RecordBatchingStream records, Socket socket)
        : base(tls)
    {
        _tls = tls;
        _records = records;
        _socket = socket;
    }

    /// <summary>The other end's certificate, as the handshake checked it.</summary>
    public X509Certificate2? PeerCertificate => _tls.RemoteCertificate as X509Certificate2;

    /// <summary>Sends what is written so far and then the end of this direction; reading goes on.</summary>
    public async Task CompleteWritesAsync(CancellationToken ct = default)
    {
        await _tls.FlushAsync(ct);

        // The close_notify goes out on its own write, without waiting for a flush that will not come.
        _records.BatchWrites = false;
        await _tls.ShutdownAsync();
    }

    /// <summary>
    /// Cuts the flow: closes the connection to the edge with a TCP reset, which the edge hands on to the other end.
    /// Disposing closes it with a FIN, which the other end's TLS reads as a clean end even without close_notify, so a
    /// flow whose app reset it would look complete there.
    /// </summary>
    public void Reset() => Wire.Sockets.AbortiveClose.Reset(_socket);

    /// <inheritdoc />
    ValueTask IFlowStream.CompleteWritesAsync(CancellationToken ct) => new(CompleteWritesAsync(ct));
}
