using Microsoft.Extensions.Logging;

namespace Gatehouse.Node.Enrollment;

/// <summary>Log messages of enrollment and renewal (event ids 1100–1199). Never a token, key or certificate.</summary>
internal static partial class EnrollmentLog
{
    [LoggerMessage(1100, LogLevel.Information, "Enrolled as {Kind} {SubjectId} of tenant {TenantId}; certificate valid until {NotAfter:o}.")]
    public static partial void Enrolled(ILogger logger, string kind, Guid subjectId, Guid tenantId, DateTimeOffset notAfter);

    [LoggerMessage(1101, LogLevel.Warning, "Enrollment as {Kind} failed ({Reason}, transient: {Transient}): {Message}")]
    public static partial void EnrollmentFailed(ILogger logger, string kind, NodeErrorReason reason, bool transient, string message);

    [LoggerMessage(1102, LogLevel.Information, "Renewed the certificate of {Kind} {SubjectId}; valid until {NotAfter:o}.")]
    public static partial void Renewed(ILogger logger, string kind, Guid subjectId, DateTimeOffset notAfter);

    [LoggerMessage(1103, LogLevel.Warning, "Renewal failed ({Reason}, transient: {Transient}): {Message}")]
    public static partial void RenewalFailed(ILogger logger, NodeErrorReason reason, bool transient, string message);
}
