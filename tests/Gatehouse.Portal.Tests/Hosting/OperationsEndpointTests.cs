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
        Assert.Equal($$"""{"status":"ok","database":"{{_portal.Engine}}"}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Data_directory_and_master_key_are_readable_by_their_owner_only()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_portal.DataDirectory));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_portal.DataDirectory, "master.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_portal.DataDirectory, "tls.key")));
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

    [Fact]
    public async Task Metrics_count_config_long_polls_and_published_bundles()
    {
        using var admin = await _portal.SignInAsync();
        using var device = await Enrollment.Enrollee.EnrollDeviceAsync(_portal, await Enrollment.Enrollee.CreateTokenAsync(admin));
        using var client = device.CreateClient(_portal);
        var first = await client.GetAsync("config/agent");
        using var request = new HttpRequestMessage(HttpMethod.Get, "config/agent?wait=30");
        request.Headers.TryAddWithoutValidation("If-None-Match", first.Headers.ETag!.Tag);
        _ = client.SendAsync(request); // parked in the portal until the client is disposed

        using var scrape = _portal.CreateClient();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var text = await scrape.GetStringAsync(new Uri(_portal.BaseAddress, "/metrics"));
        while (!text.Contains("gatehouse_portal_config_long_polls 1", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            text = await scrape.GetStringAsync(new Uri(_portal.BaseAddress, "/metrics"));
        }

        Assert.Contains("gatehouse_portal_config_long_polls 1", text, StringComparison.Ordinal);
        Assert.Contains("gatehouse_portal_enrollments_total{kind=\"device\",result=\"enrolled\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("gatehouse_portal_config_bundles_published_total{consumer=\"agent\"}", text, StringComparison.Ordinal);
        Assert.Contains("gatehouse_portal_config_responses_total{consumer=\"agent\",status=\"200\"} 1", text, StringComparison.Ordinal);
    }
}
