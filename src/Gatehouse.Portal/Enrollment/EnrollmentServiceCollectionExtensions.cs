using Gatehouse.Portal.Config;
using Microsoft.AspNetCore.Authentication;

namespace Gatehouse.Portal.Enrollment;

/// <summary>Registers enrollment and certificate authentication of devices, edges and connectors.</summary>
internal static class EnrollmentServiceCollectionExtensions
{
    public static IServiceCollection AddEnrollment(this IServiceCollection services)
    {
        services.AddScoped<CertificateCaller>();
        services.AddSingleton<TenantCaCache>();
        services.AddSingleton<EnrolledSubjectCache>();
        services.AddSingleton<IBundleContributor, RevocationContributor>();
        services.AddSingleton<IBundleContributor, Edges.EdgeListContributor>();
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, CertificateAuthenticationHandler>(CertificateAuthenticationHandler.SchemeName, null);
        services.AddAuthorization(CertificateAuthenticationHandler.AddPolicy);
        return services;
    }
}
