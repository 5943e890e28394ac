using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Gatehouse.Portal.Config;

/// <summary>Registers the config publisher, its change trigger and the tenant contributor.</summary>
internal static class ConfigServiceCollectionExtensions
{
    public static IServiceCollection AddConfigPublishing(this IServiceCollection services)
    {
        services.AddSingleton<ConfigPublisher>();
        services.AddHostedService(provider => provider.GetRequiredService<ConfigPublisher>());
        services.AddSingleton<IInterceptor, ConfigChangeInterceptor>();
        services.AddSingleton<IBundleContributor, TenantContributor>();
        return services;
    }
}
