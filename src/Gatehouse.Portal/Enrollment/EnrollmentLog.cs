namespace Gatehouse.Portal.Enrollment;

/// <summary>
/// Log messages of enrollment and certificate authentication, with stable event ids. The precise
/// reason for a refusal is logged here; the caller only hears that its secret is not valid.
/// Never pass a token, key or CSR to these.
/// </summary>
internal static partial class EnrollmentLog
{
    [LoggerMessage(3000, LogLevel.Warning, "Refused a {Kind} enrollment: the secret is {Reason} (secret id {SecretId})")]
    public static partial void EnrollmentRefused(ILogger logger, string kind, string reason, Guid? secretId);

    [LoggerMessage(3001, LogLevel.Information, "Enrolled {Kind} {SubjectId} in tenant {TenantId} (certificate serial {Serial})")]
    public static partial void Enrolled(ILogger logger, string kind, Guid subjectId, Guid tenantId, string serial);

    [LoggerMessage(3002, LogLevel.Information, "Renewed the certificate of {Kind} {SubjectId} (new serial {Serial})")]
    public static partial void Renewed(ILogger logger, string kind, Guid subjectId, string serial);

    [LoggerMessage(3003, LogLevel.Information, "Refused certificate {Identity}: {Reason}")]
    public static partial void CertificateRefused(ILogger logger, string identity, string reason);
}
