namespace Gatehouse.Wire.Api;

/// <summary>A tenant: one customer organisation, isolated from every other.</summary>
public sealed record TenantDto(Guid Id, string Name, DateTimeOffset CreatedAt);

/// <summary>Creates a tenant and its first owner (operators only).</summary>
public sealed record CreateTenantRequest(string Name, string OwnerEmail);

/// <summary>The new tenant and its owner's one-time password, shown once.</summary>
public sealed record CreateTenantResponse(TenantDto Tenant, AdminDto Owner, string OneTimePassword);

/// <summary>The caller's tenant, with the public halves of its trust anchors.</summary>
public sealed record TenantDetailsDto(Guid Id, string Name, DateTimeOffset CreatedAt, string CaCertificatePem, string ConfigKeyPublicPem);
