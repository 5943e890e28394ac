using Gatehouse.Wire.Api;

namespace Gatehouse.Portal.Enrollment;

/// <summary>Enrollment token and provisioning key to API view mappings; views never carry the secret or its hash.</summary>
public static class EnrollmentViews
{
    /// <summary>The API view of an enrollment token.</summary>
    public static EnrollmentTokenDto ToDto(this EnrollmentToken t) =>
        new(t.Id, t.Description, t.UserId, t.CreatedAt, t.ExpiresAt, t.MaxUses, t.UseCount, t.Revoked);

    /// <summary>The API view of a provisioning key.</summary>
    public static ProvisioningKeyDto ToDto(this ProvisioningKey k) =>
        new(k.Id, k.Name, k.Kind, k.ConnectorGroupId, k.CreatedAt, k.ExpiresAt, k.MaxUses, k.UseCount, k.Revoked);
}
