using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Trust.Certificates;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Enrollment;

namespace Gatehouse.Portal.Tests.Enrollment;

public sealed class ServiceEnrollmentTests : IAsyncLifetime
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
    public async Task Connector_enrolls_into_the_key_group_and_fetches_the_connector_bundle()
    {
        var group = (await (await _admin.PostAsJsonAsync("connector-groups", new NamedObjectRequest("datacenter"), PortalServer.Json))
            .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<ConnectorGroupDto>(PortalServer.Json))!.Id;
        var key = await Enrollee.CreateProvisioningKeyAsync(_admin, ProvisioningKinds.Connector, group);
        using var csrKey = CertificateSigningRequests.CreateKey();
        using var anonymous = _portal.CreateClient();
        var response = await anonymous.PostAsJsonAsync("enroll/connector", new ServiceEnrollRequest(key, CertificateSigningRequests.Create(csrKey, "c1"), "c1", null), PortalServer.Json);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var enrolled = (await response.Content.ReadFromJsonAsync<EnrollResponse>(PortalServer.Json))!;
        Assert.Equal(IdentityKinds.Connector, enrolled.Kind);
        Assert.Equal("/api/v1/config/connector", enrolled.ConfigPath);

        var connector = (await _admin.GetFromJsonAsync<ConnectorDto>($"connectors/{enrolled.SubjectId}", PortalServer.Json))!;
        Assert.Equal(group, connector.ConnectorGroupId);

        using var certificate = Enrollee.WithKey(enrolled.CertificatePem, csrKey);
        using var client = _portal.CreateClient(clientCertificate: certificate);
        var bundle = JsonNode.Parse(await client.GetByteArrayAsync("config/connector"))!;
        Assert.Equal("connector", (string?)bundle["signed"]!["consumer"]);
        Assert.NotNull(bundle["signed"]!["body"]!["edges"]);
    }

    [Fact]
    public async Task Edge_key_does_not_enroll_a_connector_and_connector_keys_need_a_group()
    {
        var edgeKey = await Enrollee.CreateProvisioningKeyAsync(_admin, ProvisioningKinds.Edge);
        using var csrKey = CertificateSigningRequests.CreateKey();
        using var anonymous = _portal.CreateClient();
        var refused = await anonymous.PostAsJsonAsync("enroll/connector", new ServiceEnrollRequest(edgeKey, CertificateSigningRequests.Create(csrKey, "c1"), "c1", null), PortalServer.Json);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Empty((await _admin.GetFromJsonAsync<Page<ConnectorDto>>("connectors", PortalServer.Json))!.Items);

        var noGroup = await _admin.PostAsJsonAsync("provisioning-keys", new CreateProvisioningKeyRequest("k", ProvisioningKinds.Connector, null, null, null), PortalServer.Json);
        Assert.Equal(HttpStatusCode.BadRequest, noGroup.StatusCode);
        Assert.Equal("connectorGroupId", (string?)JsonNode.Parse(await noGroup.Content.ReadAsStringAsync())!["field"]);

        var unknownGroup = await _admin.PostAsJsonAsync("provisioning-keys", new CreateProvisioningKeyRequest("k", ProvisioningKinds.Connector, Guid.NewGuid()), PortalServer.Json);
        Assert.Equal(HttpStatusCode.BadRequest, unknownGroup.StatusCode);
        Assert.Equal("connectorGroupId", (string?)JsonNode.Parse(await unknownGroup.Content.ReadAsStringAsync())!["field"]);
    }

    [Fact]
    public async Task Edge_with_a_bad_address_is_refused_and_keeps_its_key_unused()
    {
        var key = await Enrollee.CreateProvisioningKeyAsync(_admin, ProvisioningKinds.Edge);
        using var csrKey = CertificateSigningRequests.CreateKey();
        using var anonymous = _portal.CreateClient();
        foreach (var address in new[] { "edge1.example.test", "edge1.example.test:0", "bad host:7444", "[zz]:7444" })
        {
            var response = await anonymous.PostAsJsonAsync("enroll/edge", new ServiceEnrollRequest(key, CertificateSigningRequests.Create(csrKey, "e1"), "e1", address), PortalServer.Json);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("address", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["field"]);
        }

        var keys = (await _admin.GetFromJsonAsync<Page<ProvisioningKeyDto>>("provisioning-keys", PortalServer.Json))!;
        Assert.Equal(0, keys.Items.Single().UseCount);
        using var edge = await Enrollee.EnrollEdgeAsync(_portal, key, "[::1]:7444");
        Assert.Equal("[::1]:7444", (await _admin.GetFromJsonAsync<EdgeDto>($"edges/{edge.Response.SubjectId}", PortalServer.Json))!.Address);
    }
}
