using Gatehouse.Portal.Hosting;
using Gatehouse.Portal.Api;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Connectors;
using Gatehouse.Portal.Devices;
using Gatehouse.Portal.Edges;
using Gatehouse.Portal.Storage;
using Gatehouse.Trust.Certificates;
using Gatehouse.Trust.Secrets;
using Gatehouse.Wire;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Config;
using Gatehouse.Wire.Enrollment;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Enrollment;

/// <summary>
/// Enrollment of devices (enrollment token), edges and connectors (provisioning key), and renewal
/// by the current certificate. The key pair is made by the caller; only its CSR arrives here.
/// </summary>
internal static class EnrollmentEndpoints
{
    public const string InvalidToken = "The enrollment token is not valid.";
    public const string InvalidKey = "The provisioning key is not valid.";

    public static RouteGroupBuilder MapEnrollment(this RouteGroupBuilder api)
    {
        var enroll = api.MapGroup("/enroll").WithTags("enrollment");
        enroll.MapPost("/device", EnrollDeviceAsync).AllowAnonymous();
        enroll.MapPost("/edge", (ServiceEnrollRequest request, [AsParameters] EnrollmentContext context, CancellationToken ct) => EnrollServiceAsync(ProvisioningKinds.Edge, request, context, ct)).AllowAnonymous();
        enroll.MapPost("/connector", (ServiceEnrollRequest request, [AsParameters] EnrollmentContext context, CancellationToken ct) => EnrollServiceAsync(ProvisioningKinds.Connector, request, context, ct)).AllowAnonymous();
        enroll.MapPost("/renew", RenewAsync).RequireAuthorization(CertificateAuthenticationHandler.Policy);
        return api;
    }

    /// <summary>The services every enrollment needs, resolved per request.</summary>
    internal sealed record EnrollmentContext(PortalDbContext Db, TenantScope Scope, TenantCaCache Authorities, AuditLog Audit, TimeProvider Time, PortalMetrics Metrics, ILogger<EnrollmentContext> Logger);

    private static async Task<EnrollResponse> EnrollDeviceAsync(DeviceEnrollRequest request, [AsParameters] EnrollmentContext context, CancellationToken ct)
    {
        var (db, scope, _, _, time, metrics, logger) = context;
        var now = time.GetUtcNow();
        var hash = PasswordHasher.HashToken(request.Token);
        var token = await db.Set<EnrollmentToken>().IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == hash, ct);
        var problem = token is null ? "unknown" : Unusable(token.Revoked, token.ExpiresAt, token.UseCount, token.MaxUses, now);
        if (token is null || problem is not null)
        {
            EnrollmentLog.EnrollmentRefused(logger, IdentityKinds.Device, problem!, token?.Id);
            metrics.Enrollment(IdentityKinds.Device, "refused");
            throw new PortalException(PortalErrorKind.Unauthenticated, InvalidToken);
        }

        scope.Enter(token.TenantId);
        var name = Validate.Name(request.Name, "name", 200);
        var os = Validate.Name(request.Os, "os");
        var agentVersion = Validate.Name(request.AgentVersion, "agentVersion", 50);

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // Atomic: of two enrollments racing for the last use, exactly one updates the row.
        var consumed = await db.Set<EnrollmentToken>()
            .Where(t => t.Id == token.Id && !t.Revoked && t.UseCount < t.MaxUses && t.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.UseCount, t => t.UseCount + 1), ct);
        if (consumed != 1)
        {
            EnrollmentLog.EnrollmentRefused(logger, IdentityKinds.Device, "used up by a concurrent enrollment", token.Id);
            throw new PortalException(PortalErrorKind.Unauthenticated, InvalidToken);
        }

        var id = Guid.CreateVersion7(now);
        var (certificate, trust) = await context.Authorities.IssueAsync(db, token.TenantId, IdentityKinds.Device, id, request.CsrPem, ct);
        var device = new Device
        {
            Id = id,
            TenantId = token.TenantId,
            Name = name,
            UserId = token.UserId,
            Os = os,
            AgentVersion = agentVersion,
            Status = DeviceStatuses.Active,
            CertificateSerial = certificate.SerialNumberHex,
            CertificateThumbprint = certificate.Thumbprint,
            CertificateNotAfter = certificate.NotAfter,
            EnrollmentTokenId = token.Id,
            EnrolledAt = now,
        };
        db.Set<Device>().Add(device);
        context.Audit.Record("device.enroll", "device", id, null, device.ToDto(null), token.TenantId);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        EnrollmentLog.Enrolled(logger, IdentityKinds.Device, id, token.TenantId, certificate.SerialNumberHex);
        metrics.Enrollment(IdentityKinds.Device, "enrolled");
        return Response(trust, IdentityKinds.Device, id, certificate);
    }

    private static async Task<EnrollResponse> EnrollServiceAsync(string kind, ServiceEnrollRequest request, EnrollmentContext context, CancellationToken ct)
    {
        var (db, scope, _, _, time, metrics, logger) = context;
        var now = time.GetUtcNow();
        var hash = PasswordHasher.HashToken(request.ProvisioningKey);
        var key = await db.Set<ProvisioningKey>().IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(k => k.KeyHash == hash, ct);
        var problem = key is null ? "unknown"
            : key.Kind != kind ? $"a {key.Kind} key"
            : Unusable(key.Revoked, key.ExpiresAt, key.UseCount, key.MaxUses, now);
        if (key is null || problem is not null)
        {
            EnrollmentLog.EnrollmentRefused(logger, kind, problem!, key?.Id);
            metrics.Enrollment(kind, "refused");
            throw new PortalException(PortalErrorKind.Unauthenticated, InvalidKey);
        }

        scope.Enter(key.TenantId);
        var name = Validate.Name(request.Name, "name");
        var address = kind == ProvisioningKinds.Edge ? EdgeAddress.Validate(request.Address, "address") : null;

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var consumed = await db.Set<ProvisioningKey>()
            .Where(k => k.Id == key.Id && !k.Revoked && k.UseCount < k.MaxUses && k.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.UseCount, k => k.UseCount + 1), ct);
        if (consumed != 1)
        {
            EnrollmentLog.EnrollmentRefused(logger, kind, "used up by a concurrent enrollment", key.Id);
            throw new PortalException(PortalErrorKind.Unauthenticated, InvalidKey);
        }

        var id = Guid.CreateVersion7(now);
        var (certificate, trust) = await context.Authorities.IssueAsync(db, key.TenantId, kind, id, request.CsrPem, ct);
        if (kind == ProvisioningKinds.Edge)
        {
            var edge = new Edge
            {
                Id = id,
                TenantId = key.TenantId,
                Name = name,
                Address = address!,
                Status = DeviceStatuses.Active,
                CertificateSerial = certificate.SerialNumberHex,
                CertificateThumbprint = certificate.Thumbprint,
                CertificateNotAfter = certificate.NotAfter,
                ProvisioningKeyId = key.Id,
                EnrolledAt = now,
            };
            db.Set<Edge>().Add(edge);
            context.Audit.Record("edge.enroll", "edge", id, null, edge.ToDto(), key.TenantId);
        }
        else
        {
            var connector = new Connector
            {
                Id = id,
                TenantId = key.TenantId,
                Name = name,
                ConnectorGroupId = key.ConnectorGroupId ?? Guid.Empty,
                Status = DeviceStatuses.Active,
                CertificateSerial = certificate.SerialNumberHex,
                CertificateThumbprint = certificate.Thumbprint,
                CertificateNotAfter = certificate.NotAfter,
                ProvisioningKeyId = key.Id,
                EnrolledAt = now,
            };
            db.Set<Connector>().Add(connector);
            context.Audit.Record("connector.enroll", "connector", id, null, connector.ToDto(), key.TenantId);
        }

        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        EnrollmentLog.Enrolled(logger, kind, id, key.TenantId, certificate.SerialNumberHex);
        metrics.Enrollment(kind, "enrolled");
        return Response(trust, kind, id, certificate);
    }

    private static async Task<EnrollResponse> RenewAsync(RenewRequest request, CertificateCaller caller, EnrolledSubjectCache subjects, [AsParameters] EnrollmentContext context, CancellationToken ct)
    {
        var db = context.Db;
        IEnrolledSubject? subject = caller.Kind switch
        {
            IdentityKinds.Device => await db.Set<Device>().FirstOrDefaultAsync(d => d.Id == caller.SubjectId, ct),
            IdentityKinds.Edge => await db.Set<Edge>().FirstOrDefaultAsync(e => e.Id == caller.SubjectId, ct),
            _ => await db.Set<Connector>().FirstOrDefaultAsync(c => c.Id == caller.SubjectId, ct),
        };
        // Authentication may have read a cached row; the renewal itself checks the row as it is now.
        if (subject is null || subject.Status != DeviceStatuses.Active || subject.CertificateSerial != caller.CertificateSerial)
        {
            throw new PortalException(PortalErrorKind.Unauthenticated, "The certificate is no longer the subject's current certificate.");
        }

        var (certificate, trust) = await context.Authorities.IssueAsync(db, caller.TenantId, caller.Kind, caller.SubjectId, request.CsrPem, ct);
        var before = new { serial = subject.CertificateSerial, notAfter = subject.CertificateNotAfter };
        subject.CertificateSerial = certificate.SerialNumberHex;
        subject.CertificateThumbprint = certificate.Thumbprint;
        subject.CertificateNotAfter = certificate.NotAfter;
        context.Audit.Record($"{caller.Kind}.renew", caller.Kind, caller.SubjectId, before, new { serial = certificate.SerialNumberHex, notAfter = certificate.NotAfter }, caller.TenantId);
        await db.SaveChangesAsync(ct);
        subjects.Invalidate(caller.Kind, caller.SubjectId);
        EnrollmentLog.Renewed(context.Logger, caller.Kind, caller.SubjectId, certificate.SerialNumberHex);
        context.Metrics.Enrollment(caller.Kind, "renewed");
        return Response(trust, caller.Kind, caller.SubjectId, certificate);
    }

    /// <summary>Why a token or key cannot enroll now, or null when it can.</summary>
    private static string? Unusable(bool revoked, DateTimeOffset expiresAt, int useCount, int maxUses, DateTimeOffset now) =>
        revoked ? "revoked"
        : expiresAt <= now ? "expired"
        : useCount >= maxUses ? "used up"
        : null;

    private static EnrollResponse Response(TenantTrust trust, string kind, Guid subjectId, IssuedCertificate certificate) =>
        new(trust.TenantId, kind, subjectId, certificate.CertificatePem, trust.CaCertificatePem, trust.ConfigKeyPublicPem, certificate.NotAfter,
            $"{WireVersion.ApiPrefix}/config/{ConsumerOf(kind)}");

    /// <summary>The bundle consumer a certificate kind fetches: device→agent, edge→edge, connector→connector.</summary>
    public static string ConsumerOf(string kind) => kind switch
    {
        IdentityKinds.Device => BundleConsumers.Agent,
        IdentityKinds.Edge => BundleConsumers.Edge,
        _ => BundleConsumers.Connector,
    };
}
