using System.Net;

namespace Gatehouse.Portal.Tests.Hosting;

public sealed class OperationsEndpointTests : IAsyncLifetime
{
    private PortalServer _portal = null!;

    public async Task InitializeAsync() => _portal = await PortalServer.StartAsync();

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Fact]
    public async Task Health_reports_the_database_engine_without_credentials()
    {
        using var client = _portal.CreateClient();
        var response = await client.GetAsync(new Uri(_portal.BaseAddress, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"status":"ok","database":"sqlite"}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Metrics_are_served_in_the_prometheus_text_format_with_request_counts()
    {
        using var client = _portal.CreateClient();
        await client.GetAsync(new Uri(_portal.BaseAddress, "/healthz"));
        var response = await client.GetAsync(new Uri(_portal.BaseAddress, "/metrics"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("# TYPE process_resident_memory_bytes gauge", text, StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration_bucket{", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenApi_document_lists_the_api_routes()
    {
        using var client = _portal.CreateClient();
        var document = await client.GetStringAsync("openapi.json");
        Assert.Contains("\"/api/v1/users\"", document, StringComparison.Ordinal);
        Assert.Contains("\"/api/v1/auth/login\"", document, StringComparison.Ordinal);
    }
}
