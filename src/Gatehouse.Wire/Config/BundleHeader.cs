namespace Gatehouse.Wire.Config;

/// <summary>
/// What a config bundle says about itself, next to its body inside the signed part:
/// <c>{"type":"gatehouse.config/v1","tenant":…,"consumer":…,"version":…,"issued":…,"expires":…,"body":{…}}</c>.
/// </summary>
/// <param name="Tenant">The tenant id the bundle belongs to.</param>
/// <param name="Consumer">Who the bundle is for; one of <see cref="BundleConsumers"/>.</param>
/// <param name="Version">Positive, increasing version; consumers refuse older ones.</param>
/// <param name="Issued">When the portal issued the bundle.</param>
/// <param name="Expires">When consumers stop trusting the bundle, or <see langword="null"/> for never.</param>
public sealed record BundleHeader(string Tenant, string Consumer, long Version, DateTimeOffset Issued, DateTimeOffset? Expires)
{
    /// <summary>The value of the <c>type</c> field of the signed part.</summary>
    public const string Type = "gatehouse.config/v1";
}
