using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using System.Text.Encodings.Web;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Storage;
using Gatehouse.Trust.Certificates;
using Gatehouse.Wire.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Options;

namespace Gatehouse.Portal.Enrollment;

/// <summary>
/// Authenticates devices, edges and connectors by the client certificate of the TLS connection.
/// Kestrel accepts any certificate, so everything is checked here:
/// <code>
/// certificate ─► gatehouse:// identity ─► that tenant's CA (cached) ─► chain and validity
///             ─► subject row (cached 5 s): same tenant, active, serial == current serial
/// </code>
/// A certificate renewed away or revoked is refused even though it still chains to the CA.
/// </summary>
internal sealed class CertificateAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    PortalDbContext db,
    TenantScope scope,
    CertificateCaller caller,
    TenantCaCache authorities,
    EnrolledSubjectCache subjects,
    TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "gatehouse-cert";

    /// <summary>The policy of routes for enrolled devices, edges and connectors.</summary>
    public const string Policy = "enrolled";

    /// <summary>The policy of routes for enrolled edges only; a device or connector certificate gets 403.</summary>
    public const string EdgePolicy = "enrolled-edge";

    public static void AddPolicy(AuthorizationOptions options)
    {
        options.AddPolicy(Policy, p => p.AddAuthenticationSchemes(SchemeName).RequireAuthenticatedUser());
        options.AddPolicy(EdgePolicy, p => p.AddAuthenticationSchemes(SchemeName).RequireAuthenticatedUser().RequireClaim(GatehouseClaims.Kind, IdentityKinds.Edge));
    }

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var certificate = Context.Connection.ClientCertificate;
        if (certificate is null)
        {
            return AuthenticateResult.NoResult();
        }

        var identity = CertificateIdentity.FromCertificate(certificate);
        if (identity is null || !Guid.TryParse(identity.TenantId, out var tenantId) || !Guid.TryParse(identity.SubjectId, out var subjectId))
        {
            return Refuse(null, "The certificate carries no Gatehouse identity.");
        }

        var trust = await authorities.GetAsync(db, tenantId, Context.RequestAborted);
        if (trust is null)
        {
            return Refuse(identity, "The certificate names a tenant that does not exist.");
        }

        if (!IsChainValidatedOnThisConnection(certificate))
        {
            if (!trust.Authority.Validate(certificate, out var reason))
            {
                return Refuse(identity, reason);
            }

            RememberChainValidated(certificate);
        }
        else if (certificate.NotAfter.ToUniversalTime() <= time.GetUtcNow().UtcDateTime)
        {
            return Refuse(identity, "The certificate has expired.");
        }

        var state = await subjects.GetAsync(db, identity.Kind, subjectId, Context.RequestAborted);
        var serial = certificate.SerialNumber.ToLowerInvariant();
        if (state is null || state.TenantId != tenantId)
        {
            return Refuse(identity, $"No {identity.Kind} {subjectId} is enrolled.");
        }

        if (state.Status != DeviceStatuses.Active)
        {
            return Refuse(identity, $"The {identity.Kind} is {state.Status}.");
        }

        if (state.CertificateSerial != serial)
        {
            return Refuse(identity, "The certificate has been replaced by a renewal.");
        }

        caller.Set(tenantId, identity.Kind, subjectId, serial);
        scope.Enter(tenantId);
        await subjects.RecordSeenAsync(db, identity.Kind, subjectId, Context.RequestAborted);

        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, identity.ToUriString()),
            new(GatehouseClaims.Tenant, identity.TenantId),
            new(GatehouseClaims.Kind, identity.Kind),
        };
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));
    }

    /// <summary>
    /// A TLS connection keeps its client certificate, so its chain is built once per connection, not
    /// once per request (a long-polling device sends a request every 30 s on one connection). Expiry,
    /// revocation and renewal are still checked on every request.
    /// </summary>
    private bool IsChainValidatedOnThisConnection(X509Certificate2 certificate) =>
        Context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(ValidatedChainKey, out var validated) == true
        && ReferenceEquals(validated, certificate);

    private void RememberChainValidated(X509Certificate2 certificate)
    {
        if (Context.Features.Get<IConnectionItemsFeature>() is { } connection)
        {
            connection.Items[ValidatedChainKey] = certificate;
        }
    }

    private static readonly object ValidatedChainKey = new();

    private AuthenticateResult Refuse(CertificateIdentity? identity, string reason)
    {
        EnrollmentLog.CertificateRefused(Logger, identity?.ToUriString() ?? "(none)", reason);
        return AuthenticateResult.Fail(reason);
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        await WriteProblemAsync(401, "unauthenticated", "Present an enrolled certificate.",
            result.Failure?.Message ?? "This call needs the client certificate of an enrolled device, edge or connector.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(403, "forbidden", "Not allowed.", "This certificate does not allow this call.");

    private Task WriteProblemAsync(int status, string type, string title, string detail)
    {
        Response.StatusCode = status;
        return Results.Problem(detail: detail, statusCode: status, title: title, type: $"https://gatehouse.dev/problems/{type}").ExecuteAsync(Context);
    }
}
