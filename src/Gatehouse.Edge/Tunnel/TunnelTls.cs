using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Edge.Policies;
using Gatehouse.Node.Credentials;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Gatehouse.Edge.Tunnel;

/// <summary>
/// TLS of the tunnel listener: TLS 1.3 only, ALPN h2, the edge's own certificate (swapped after a
/// renewal), and a client certificate that the tenant CA signed and the bundle does not revoke —
/// checked in the handshake, so that a refused device never gets as far as HTTP.
/// </summary>
internal sealed class TunnelTls
{
    private readonly EdgePolicy _policy;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private volatile SslStreamCertificateContext _server;

    public TunnelTls(NodeCredentials credentials, EdgePolicy policy, TimeProvider time, ILogger logger)
    {
        _policy = policy;
        _time = time;
        _logger = logger;
        _server = ContextOf(credentials);
    }

    /// <summary>Serves <paramref name="renewed"/> from the next handshake on.</summary>
    public void Use(NodeCredentials renewed) => _server = ContextOf(renewed);

    /// <summary>Kestrel's handshake callback, called once the client's ClientHello is in.</summary>
    public ValueTask<SslServerAuthenticationOptions> OnConnection(TlsHandshakeCallbackContext context) => ValueTask.FromResult(Options());

    /// <summary>
    /// A handshake that SslStream failed with an exception Kestrel does not expect (<see cref="Gatehouse.Hosting.TlsHandshakeFailures"/>): a
    /// first record that is no ClientHello, or a ClientHello that does not parse. Logged at debug, like any failed handshake.
    /// </summary>
    public void HandshakeFailed(ConnectionContext connection, Exception e) =>
        TunnelLog.NoClientHello(_logger, connection.RemoteEndPoint?.ToString() ?? "unknown", e.GetType().Name);

    public SslServerAuthenticationOptions Options() => new()
    {
        ServerCertificateContext = _server,
        EnabledSslProtocols = SslProtocols.Tls13,
        // h2 for agents; connectors link in with their own protocol and are held before HTTP (ConnectorLinks).
        ApplicationProtocols = [SslApplicationProtocol.Http2, new SslApplicationProtocol(Wire.Tunnel.ConnectorProtocol.ApplicationProtocol)],
        ClientCertificateRequired = true,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,

        // The platform's verdict is ignored (the tenant CA is no system root); the bundle's trust decides.
        RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is X509Certificate2 client && _policy.Identities.Trust.Validate(client, _time.GetUtcNow(), out _, out _),
    };

    private static SslStreamCertificateContext ContextOf(NodeCredentials credentials)
    {
        // A certificate with its own copy of the key: the credentials object is disposed by its owner.
        var certificate = credentials.CreateCertificateWithKey();
        return SslStreamCertificateContext.Create(certificate, [credentials.TenantCa], offline: true);
    }
}
