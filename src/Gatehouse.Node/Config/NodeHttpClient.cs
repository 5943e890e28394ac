using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Node.Credentials;

namespace Gatehouse.Node.Config;

/// <summary>
/// HTTP clients that talk to the portal the way a node must: TLS 1.3 or 1.2 only, the portal's
/// certificate checked against the pinned portal CA (and nothing else) or the system roots, and the
/// node certificate presented as client certificate.
/// </summary>
public static class NodeHttpClient
{
    /// <summary>
    /// The Linux socket mark every portal connection of this process carries, or null for none. Set once
    /// at start by a process that redirects the machine's traffic to itself (the agent's transparent
    /// mode), so that its own calls to the portal pass its rules (<see cref="Wire.Sockets.SocketMark"/>).
    /// </summary>
    public static int? ProcessSocketMark { get; set; }

    /// <summary>A client for an enrolled node: presents the node certificate and trusts the portal as enrolled.</summary>
    /// <param name="credentials">The node's credentials; the client copies what it needs.</param>
    /// <param name="timeout">The client's overall timeout per request; infinite when not given (callers bound each call).</param>
    /// <returns>A client whose base address is the portal URL; the caller disposes it.</returns>
    public static HttpClient Create(NodeCredentials credentials, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        return Create(credentials.Identity.PortalUrl, credentials.PortalTrust, credentials.CreateCertificateWithKey(), timeout);
    }

    /// <summary>A client for a node that is not enrolled yet (enrollment): no client certificate.</summary>
    /// <param name="portalUrl">The portal's base address.</param>
    /// <param name="portalTrust">How to trust the portal.</param>
    /// <param name="timeout">The client's overall timeout per request.</param>
    /// <returns>A client whose base address is the portal URL; the caller disposes it.</returns>
    public static HttpClient CreateAnonymous(Uri portalUrl, PortalTrust portalTrust, TimeSpan? timeout = null) =>
        Create(portalUrl, portalTrust, null, timeout);

    /// <summary>The handler behind the clients, for hosts that build their own.</summary>
    /// <param name="portalTrust">How to trust the portal.</param>
    /// <param name="clientCertificate">The certificate with key to present, or <see langword="null"/>; the handler owns it afterwards.</param>
    /// <returns>The handler; disposing it disposes the certificates it holds.</returns>
    public static HttpMessageHandler CreateHandler(PortalTrust portalTrust, X509Certificate2? clientCertificate)
    {
        ArgumentNullException.ThrowIfNull(portalTrust);
        var pinned = portalTrust.LoadCertificate();
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            SslOptions =
            {
                EnabledSslProtocols = SslProtocols.Tls13 | SslProtocols.Tls12,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            },
        };
        if (ProcessSocketMark is { } mark)
        {
            handler.ConnectCallback = Wire.Sockets.SocketMark.ConnectCallback(mark);
        }

        if (pinned is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsPinnedValid(pinned, certificate, errors);
        }

        if (clientCertificate is not null)
        {
            // Always offer the node certificate: the portal asks for any certificate and names no issuers.
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }

        return new OwningHandler(handler, pinned, clientCertificate);
    }

    private static HttpClient Create(Uri portalUrl, PortalTrust portalTrust, X509Certificate2? clientCertificate, TimeSpan? timeout)
    {
        ArgumentNullException.ThrowIfNull(portalUrl);
        if (portalUrl.Scheme != Uri.UriSchemeHttps)
        {
            clientCertificate?.Dispose();
            throw new ArgumentException("The portal URL must be https.", nameof(portalUrl));
        }

        return new HttpClient(CreateHandler(portalTrust, clientCertificate), disposeHandler: true)
        {
            BaseAddress = portalUrl,
            Timeout = timeout ?? Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>The portal's certificate must name the host and chain to the pinned certificate alone.</summary>
    internal static bool IsPinnedValid(X509Certificate2 pinned, X509Certificate? presented, SslPolicyErrors errors)
    {
        if (presented is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            return false;
        }

        using var leaf = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(pinned);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        try
        {
            return chain.Build(leaf);
        }
        finally
        {
            foreach (var element in chain.ChainElements)
            {
                element.Certificate.Dispose();
            }
        }
    }

    /// <summary>Disposes the certificates it was built with.</summary>
    private sealed class OwningHandler(SocketsHttpHandler inner, X509Certificate2? pinned, X509Certificate2? clientCertificate) : DelegatingHandler(inner)
    {
        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            if (disposing)
            {
                pinned?.Dispose();
                clientCertificate?.Dispose();
            }
        }
    }
}
