// Temporary stand-in until the metrics branch lands; deleted at that merge.
#pragma warning disable CS1591
namespace Gatehouse.Observability;

public sealed class PrometheusExporter(params string[] prefixes) : IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";
    public string Render() => string.Join(',', prefixes)[..0];
    public void Dispose() { }
}
