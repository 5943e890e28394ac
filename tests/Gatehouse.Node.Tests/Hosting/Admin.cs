using Gatehouse.Testing.Portal;
using System.Net;
using System.Net.Http.Json;
using Gatehouse.Wire.Api;

namespace Gatehouse.Node.Tests.Hosting;

/// <summary>What an admin does over the REST API for the node tests.</summary>
public static class Admin
{
    public static async Task<string> CreateEnrollmentTokenAsync(HttpClient admin, int? maxUses = null)
    {
        var response = await admin.PostAsJsonAsync("enrollment-tokens", new CreateEnrollmentTokenRequest("node test", null, null, maxUses), TestPortal.Json);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CreateEnrollmentTokenResponse>(TestPortal.Json))!.Token;
    }

    public static async Task<string> CreateProvisioningKeyAsync(HttpClient admin, string kind, Guid? connectorGroupId = null)
    {
        var response = await admin.PostAsJsonAsync("provisioning-keys", new CreateProvisioningKeyRequest("node test", kind, connectorGroupId, null, 5), TestPortal.Json);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CreateProvisioningKeyResponse>(TestPortal.Json))!.Key;
    }

    public static async Task<Guid> CreateConnectorGroupAsync(HttpClient admin, string name)
    {
        var response = await admin.PostAsJsonAsync("connector-groups", new NamedObjectRequest(name), TestPortal.Json);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ConnectorGroupDto>(TestPortal.Json))!.Id;
    }

    public static async Task<AppSegmentDto> CreateAppSegmentAsync(HttpClient admin, string name, string domain)
    {
        var response = await admin.PostAsJsonAsync("app-segments", new AppSegmentRequest(name, Domains: [domain], Ports: ["443"]), TestPortal.Json);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<AppSegmentDto>(TestPortal.Json))!;
    }
}
