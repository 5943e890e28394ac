using Gatehouse.Trust.Certificates;

namespace Gatehouse.Portal.Enrollment;

/// <summary>How long enrollment secrets and the certificates they buy last, in one place.</summary>
public static class EnrollmentLimits
{
    /// <summary>Enrollment tokens last a day unless the admin asks.</summary>
    public const int DefaultTokenHours = 24;

    /// <summary>Enrollment tokens last at most 30 days.</summary>
    public const int MaxTokenHours = 30 * 24;

    /// <summary>Provisioning keys last a week unless the admin asks.</summary>
    public const int DefaultKeyDays = 7;

    /// <summary>Provisioning keys last at most a year.</summary>
    public const int MaxKeyDays = 365;

    /// <summary>The most enrollments one token or key may make.</summary>
    public const int MaxUses = 10_000;

    /// <summary>Device certificates: short, since agents renew on their own.</summary>
    public static readonly TimeSpan DeviceCertificateLifetime = TimeSpan.FromDays(30);

    /// <summary>Edge and connector certificates.</summary>
    public static readonly TimeSpan ServiceCertificateLifetime = TimeSpan.FromDays(90);

    /// <summary>The certificate lifetime for an identity kind.</summary>
    public static TimeSpan CertificateLifetime(string kind) =>
        kind == IdentityKinds.Device ? DeviceCertificateLifetime : ServiceCertificateLifetime;
}
