using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Portal.Tests.Enrollment;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Portal.Tests.Logs;
using Gatehouse.Trust.Certificates;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Enrollment;
using Gatehouse.Wire.Logs;
using Gatehouse.Wire.Tunnel;
using Gatehouse.Wire.Updates;

namespace Gatehouse.Portal.Tests.Api;

/// <summary>
/// Agents, edges and connectors newer than their portal (the portal is upgraded first, but a rollout of a new agent
/// is the normal case while it runs): what they send may carry fields this portal does not know. Those are skipped,
/// where an admin's request with one is refused (<see cref="BadInputTests"/>); refusing them cost every log batch of
/// a newer edge, and every heartbeat of the agents a rollout is judging.
/// </summary>
public sealed class NewerNodeTests : IAsyncLifetime
{
    private PortalServer _portal = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalServer.StartAsync();
        _admin = await _portal.SignInAsync();
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _portal.DisposeAsync();
    }

    [Fact]
    public async Task An_edge_enrolls_renews_and_ships_logs_with_fields_this_portal_does_not_know()
    {
        using var anonymous = _portal.CreateClient();
        var key = await Enrollee.CreateProvisioningKeyAsync(_admin, ProvisioningKinds.Edge);
        var edgeKey = CertificateSigningRequests.CreateKey();
        using var edge = await Enrollee.FromAsync(edgeKey, await PostAsync(anonymous, "enroll/edge", new ServiceEnrollRequest(key, CertificateSigningRequests.Create(edgeKey, "edge1"), "edge1", "edge1.example.test:7444")));
        using var client = edge.CreateClient(_portal);

        var shipped = await PostAsync(client, TransactionLogBatch.Path, new TransactionLogBatch([EdgeLogs.HttpRecord(edge, DateTimeOffset.UtcNow)]));
        var renewed = await PostAsync(client, "enroll/renew", new RenewRequest(CertificateSigningRequests.Create(edge.Key, "renewed")));

        Assert.True(renewed.IsSuccessStatusCode, await renewed.Content.ReadAsStringAsync());
        Assert.True(shipped.StatusCode == HttpStatusCode.Accepted, await shipped.Content.ReadAsStringAsync());
        Assert.Equal(1, (await shipped.Content.ReadFromJsonAsync<TransactionLogBatchResult>(PortalServer.Json))!.Accepted);
        var stored = Assert.Single((await _admin.GetFromJsonAsync<Page<TransactionLogEntryDto>>("logs", PortalServer.Json))!.Items);
        Assert.Equal("www.example.com", stored.Record.Host);
    }

    [Fact]
    public async Task A_device_enrolls_and_reports_update_events_with_fields_this_portal_does_not_know()
    {
        using var anonymous = _portal.CreateClient();
        var deviceKey = CertificateSigningRequests.CreateKey();
        using var device = await Enrollee.FromAsync(deviceKey, await PostAsync(anonymous, "enroll/device", new DeviceEnrollRequest(await Enrollee.CreateTokenAsync(_admin), CertificateSigningRequests.Create(deviceKey, "laptop"), "laptop", "linux", "9.0.0")));
        using var client = device.CreateClient(_portal);

        var reported = await PostAsync(client, "device/update-events", new UpdateEventReport("bypass", "1", UpdateEvents.Heartbeat, 0, null, TunnelsOpened: 4));

        Assert.True(reported.StatusCode == HttpStatusCode.NoContent, await reported.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_connector_enrolls_and_reports_its_status_with_fields_this_portal_does_not_know()
    {
        var group = (await (await _admin.PostAsJsonAsync("connector-groups", new NamedObjectRequest("dc"), PortalServer.Json)).Content.ReadFromJsonAsync<ConnectorGroupDto>(PortalServer.Json))!;
        using var anonymous = _portal.CreateClient();
        var connectorKey = CertificateSigningRequests.CreateKey();
        var key = await Enrollee.CreateProvisioningKeyAsync(_admin, ProvisioningKinds.Connector, group.Id);
        using var connector = await Enrollee.FromAsync(connectorKey, await PostAsync(anonymous, "enroll/connector", new ServiceEnrollRequest(key, CertificateSigningRequests.Create(connectorKey, "connector1"), "connector1", null)));
        using var client = connector.CreateClient(_portal);
        var server = new ServerHealthDto("crm", "crm.corp.example", "10.0.0.5", 443, Healthy: true, "connected", DateTimeOffset.UtcNow);

        var reported = await PostAsync(client, "connector/status", new ConnectorStatusReport(connector.Response.SubjectId.ToString(), "9.0.0", 2, [server], ["edge1"]));

        Assert.True(reported.StatusCode == HttpStatusCode.NoContent, await reported.Content.ReadAsStringAsync());
        var listed = await _admin.GetStringAsync($"connectors/{connector.Response.SubjectId}");
        Assert.Contains("crm.corp.example", listed, StringComparison.Ordinal);
    }

    /// <summary>Posts <paramref name="body"/> with a field this portal does not know added to each of its objects.</summary>
    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, object body)
    {
        var json = JsonSerializer.SerializeToNode(body, body.GetType(), PortalServer.Json)!;
        AddUnknownFields(json);
        using var content = new StringContent(json.ToJsonString(), Encoding.UTF8, "application/json");
        // The wire paths of node endpoints are absolute (/api/v1/...); the others are relative to the client's /api/v1/.
        return await client.PostAsync(path.StartsWith('/') ? new Uri(client.BaseAddress!, path) : new Uri(path, UriKind.Relative), content);
    }

    private static void AddUnknownFields(JsonNode node)
    {
        switch (node)
        {
            case JsonObject item:
                foreach (var (_, value) in item.ToList())
                {
                    if (value is not null)
                    {
                        AddUnknownFields(value);
                    }
                }

                item["addedByANewerRelease"] = new JsonObject { ["nested"] = new JsonArray(1, "two") };
                break;
            case JsonArray list:
                foreach (var value in list)
                {
                    if (value is not null)
                    {
                        AddUnknownFields(value);
                    }
                }

                break;
        }
    }
}
