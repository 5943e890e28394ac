namespace Gatehouse.Portal.Enrollment;

/// <summary>The device, edge or connector behind the current request, set once by certificate authentication.</summary>
public sealed class CertificateCaller
{
    /// <summary>The subject's tenant.</summary>
    public Guid TenantId { get; private set; }

    /// <summary>One of <see cref="Trust.Certificates.IdentityKinds"/>.</summary>
    public string Kind { get; private set; } = "";

    /// <summary>The subject's id (device, edge or connector id).</summary>
    public Guid SubjectId { get; private set; }

    /// <summary>The serial (lowercase hex) of the certificate presented.</summary>
    public string CertificateSerial { get; private set; } = "";

    /// <summary>True once certificate authentication has run successfully.</summary>
    public bool IsAuthenticated => SubjectId != Guid.Empty;

    internal void Set(Guid tenantId, string kind, Guid subjectId, string serial)
    {
        TenantId = tenantId;
        Kind = kind;
        SubjectId = subjectId;
        CertificateSerial = serial;
    }
}
