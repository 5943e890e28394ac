using System.Security.Cryptography;
using Gatehouse.Node.Config;
using Gatehouse.Node.Credentials;
using Gatehouse.Trust.Certificates;
using Gatehouse.Wire;
using Gatehouse.Wire.Enrollment;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Node.Enrollment;

/// <summary>
/// Joins a node to a tenant and keeps its certificate fresh. The node's P-256 key is made here and
/// never leaves: only a signing request goes to the portal.
/// </summary>
/// <remarks>
/// <code>
///   key = CreateKey()  ──CSR + token/provisioning key──▶  POST /api/v1/enroll/{device|edge|connector}
///                      ◀──EnrollResponse──────────────────
///   check: certificate is for our key, chains directly to the returned tenant CA,
///          its identity URI equals gatehouse://{tenant}/{kind}/{subject} of the answer
///   save:  NodeCredentialStore (node.json last)
/// </code>
/// Renewal keeps the key and sends a fresh CSR of it with the current certificate as TLS client
/// certificate: only <c>node.crt</c> changes on disk, so no crash can leave a key next to a
/// certificate of another key.
/// </remarks>
/// <param name="time">The clock; the system clock when not given.</param>
/// <param name="logger">Where to log; nowhere when not given.</param>
public sealed class NodeEnrollment(TimeProvider? time = null, ILogger<NodeEnrollment>? logger = null)
{
    /// <summary>How long one enrollment or renewal call may take.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ILogger _logger = logger ?? (ILogger)NullLogger.Instance;

    /// <summary>Enrolls this machine as a device with an enrollment token, and saves its credentials.</summary>
    /// <param name="store">Where to keep the credentials; it must not hold an enrollment yet.</param>
    /// <param name="portalUrl">The portal's base address (https).</param>
    /// <param name="portalTrust">How to trust the portal's TLS certificate; pinned ones are saved with the credentials.</param>
    /// <param name="token">The enrollment token an admin made.</param>
    /// <param name="name">The device's name, as admins see it.</param>
    /// <param name="os">The operating system, such as <c>linux</c>.</param>
    /// <param name="agentVersion">The agent's version.</param>
    /// <param name="ct">Cancels the call.</param>
    /// <returns>The saved credentials; the caller disposes them.</returns>
    /// <exception cref="NodeException">The portal refused (with its detail), could not be reached, or its answer fails the checks; nothing is saved.</exception>
    public Task<NodeCredentials> EnrollDeviceAsync(
        NodeCredentialStore store, Uri portalUrl, PortalTrust portalTrust, string token, string name, string os, string agentVersion, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(os);
        ArgumentException.ThrowIfNullOrWhiteSpace(agentVersion);
        return EnrollAsync(store, IdentityKinds.Device, portalUrl, portalTrust, csr => new DeviceEnrollRequest(token, csr, name, os, agentVersion), NodeJsonContext.Default.DeviceEnrollRequest, name, ct);
    }

    /// <summary>Enrolls this machine as an edge or app connector with a provisioning key, and saves its credentials.</summary>
    /// <param name="store">Where to keep the credentials; it must not hold an enrollment yet.</param>
    /// <param name="kind"><see cref="IdentityKinds.Edge"/> or <see cref="IdentityKinds.Connector"/>.</param>
    /// <param name="portalUrl">The portal's base address (https).</param>
    /// <param name="portalTrust">How to trust the portal's TLS certificate.</param>
    /// <param name="provisioningKey">The provisioning key an admin made for this kind.</param>
    /// <param name="name">The node's name, as admins see it.</param>
    /// <param name="address">For an edge, where agents reach it (<c>host:port</c>); <see langword="null"/> for a connector.</param>
    /// <param name="ct">Cancels the call.</param>
    /// <returns>The saved credentials; the caller disposes them.</returns>
    /// <exception cref="NodeException">The portal refused, could not be reached, or its answer fails the checks; nothing is saved.</exception>
    public Task<NodeCredentials> EnrollServiceAsync(
        NodeCredentialStore store, string kind, Uri portalUrl, PortalTrust portalTrust, string provisioningKey, string name, string? address, CancellationToken ct = default)
    {
        if (kind is not (IdentityKinds.Edge or IdentityKinds.Connector))
        {
            throw new ArgumentException($"\"{kind}\" is not edge or connector.", nameof(kind));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(provisioningKey);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return EnrollAsync(store, kind, portalUrl, portalTrust, csr => new ServiceEnrollRequest(provisioningKey, csr, name, address), NodeJsonContext.Default.ServiceEnrollRequest, name, ct);
    }

    /// <summary>
    /// Renews the stored certificate (same key, fresh CSR), authenticated by the current certificate,
    /// and saves the new one. The portal refuses the old certificate afterwards.
    /// </summary>
    /// <param name="store">The enrolled node's store.</param>
    /// <param name="ct">Cancels the call.</param>
    /// <returns>The renewed credentials, as saved; the caller disposes them.</returns>
    /// <exception cref="NodeException">Not enrolled, the store is corrupt, the portal refused (a revoked node) or could not be reached, or its answer fails the checks; the stored credentials are then unchanged.</exception>
    public async Task<NodeCredentials> RenewAsync(NodeCredentialStore store, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        using var current = store.Load() ?? throw new NodeException(NodeErrorReason.NotEnrolled, $"The credential store {store.Directory} holds no enrollment to renew.");
        var identity = current.Identity;
        try
        {
            var csr = CertificateSigningRequests.Create(current.Key, identity.SubjectId.ToString());
            EnrollResponse answer;
            using (var client = NodeHttpClient.Create(current))
            {
                answer = await PortalCalls.PostAsync(client, ApiPath("enroll/renew"), new RenewRequest(csr), NodeJsonContext.Default.RenewRequest, NodeJsonContext.Default.EnrollResponse, RequestTimeout, _time, ct);
            }

            if (answer.TenantId != identity.TenantId || answer.Kind != identity.Kind || answer.SubjectId != identity.SubjectId)
            {
                throw new NodeException(NodeErrorReason.InvalidAnswer, "The portal renewed the certificate for another identity than this node's.");
            }

            var key = ECDsa.Create();
            key.ImportPkcs8PrivateKey(current.Key.ExportPkcs8PrivateKey(), out _);
            var renewed = NodeCredentials.Create(identity, current.PortalTrust, key, answer.CertificatePem, answer.CaCertificatePem, answer.ConfigKeyPublicPem);
            try
            {
                store.Save(renewed);
            }
            catch
            {
                renewed.Dispose();
                throw;
            }

            EnrollmentLog.Renewed(_logger, identity.Kind, identity.SubjectId, renewed.NotAfter);
            return renewed;
        }
        catch (NodeException e)
        {
            EnrollmentLog.RenewalFailed(_logger, e.Reason, e.IsTransient, e.Message);
            throw;
        }
    }

    private async Task<NodeCredentials> EnrollAsync<TRequest>(
        NodeCredentialStore store, string kind, Uri portalUrl, PortalTrust portalTrust, Func<string, TRequest> request, System.Text.Json.Serialization.Metadata.JsonTypeInfo<TRequest> requestType, string commonName, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(portalUrl);
        ArgumentNullException.ThrowIfNull(portalTrust);
        try
        {
            if (store.IsEnrolled)
            {
                throw new NodeException(NodeErrorReason.AlreadyEnrolled, $"The credential store {store.Directory} already holds an enrollment; a device logs out first (`gatehouse agent logout`), an edge or a connector takes a new --state-dir (or the old one removed once it is revoked).");
            }

            portalUrl = WithTrailingSlash(portalUrl);
            var key = CertificateSigningRequests.CreateKey();
            EnrollResponse answer;
            try
            {
                var csr = CertificateSigningRequests.Create(key, commonName);
                using var client = NodeHttpClient.CreateAnonymous(portalUrl, portalTrust);
                answer = await PortalCalls.PostAsync(client, ApiPath($"enroll/{kind}"), request(csr), requestType, NodeJsonContext.Default.EnrollResponse, RequestTimeout, _time, ct);
            }
            catch
            {
                key.Dispose();
                throw;
            }

            var consumer = NodeIdentity.ConsumerOf(kind);
            if (answer.Kind != kind || answer.ConfigPath != $"{WireVersion.ApiPrefix}/config/{consumer}")
            {
                key.Dispose();
                throw new NodeException(NodeErrorReason.InvalidAnswer, $"The portal enrolled a {answer.Kind} with config at {answer.ConfigPath}, not a {kind}.");
            }

            var identity = new NodeIdentity(portalUrl, answer.TenantId, answer.Kind, answer.SubjectId, answer.ConfigPath);
            var credentials = NodeCredentials.Create(identity, portalTrust, key, answer.CertificatePem, answer.CaCertificatePem, answer.ConfigKeyPublicPem);
            try
            {
                store.Save(credentials);
            }
            catch
            {
                credentials.Dispose();
                throw;
            }

            EnrollmentLog.Enrolled(_logger, kind, identity.SubjectId, identity.TenantId, credentials.NotAfter);
            return credentials;
        }
        catch (NodeException e)
        {
            EnrollmentLog.EnrollmentFailed(_logger, kind, e.Reason, e.IsTransient, e.Message);
            throw;
        }
    }

    private static string ApiPath(string relative) => $"{WireVersion.ApiPrefix.TrimStart('/')}/{relative}";

    private static Uri WithTrailingSlash(Uri url) =>
        url.AbsolutePath.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/", UriKind.Absolute);
}
