using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Tests.Enrollment;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Testing;
using Gatehouse.Trust.Bundles;
using Gatehouse.Trust.Certificates;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Config;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Portal.Tests.Config;

public sealed class ConfigBundleTests : IAsyncLifetime
{
    private PortalServer _portal = null!;
    private HttpClient _admin = null!;
    private TenantDetailsDto _tenant = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalServer.StartAsync();
        _admin = await _portal.SignInAsync();
        _tenant = (await _admin.GetFromJsonAsync<TenantDetailsDto>("tenant", PortalServer.Json))!;
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _portal.DisposeAsync();
    }

    [Fact]
    public async Task Revoked_device_is_listed_in_the_edge_bundle_and_refused_its_config()
    {
        using var device = await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin));
        using var edge = await Enrollee.EnrollEdgeAsync(_portal, await Enrollee.CreateProvisioningKeyAsync(_admin, ProvisioningKinds.Edge));
        using var deviceClient = device.CreateClient(_portal);
        Assert.Equal(HttpStatusCode.OK, (await deviceClient.GetAsync("config/agent")).StatusCode);

        var revoked = await _admin.PostAsync($"devices/{device.Response.SubjectId}/revoke", null);
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.Equal(DeviceStatuses.Revoked, (await revoked.Content.ReadFromJsonAsync<DeviceDto>(PortalServer.Json))!.Status);

        using var edgeClient = edge.CreateClient(_portal);
        var body = await WaitForEdgeBodyAsync(edgeClient, b => b["revoked"]!["devices"]!.AsArray().Count > 0);
        var listed = Assert.Single(body["revoked"]!["devices"]!.AsArray())!;
        Assert.Equal(device.Response.SubjectId.ToString(), (string?)listed["id"]);
        Assert.Equal(device.Certificate.SerialNumber, (string?)listed["serial"], ignoreCase: true);
        Assert.Equal(_tenant.CaCertificatePem, (string?)body["ca"]);

        Assert.Equal(HttpStatusCode.Unauthorized, (await deviceClient.GetAsync("config/agent")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await device.RenewAsync(_portal)).StatusCode);
    }

    [Fact]
    public async Task A_device_learns_its_user_and_the_users_groups_and_an_edge_is_refused()
    {
        var group = (await (await _admin.PostAsJsonAsync("groups", new CreateGroupRequest("finance"), PortalServer.Json)).Content.ReadFromJsonAsync<GroupDto>(PortalServer.Json))!;
        var user = (await (await _admin.PostAsJsonAsync("users", new CreateUserRequest("dora@example.test", GroupIds: [group.Id]), PortalServer.Json)).Content.ReadFromJsonAsync<UserDto>(PortalServer.Json))!;
        using var device = await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin, userId: user.Id));
        using var anonymous = await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin));
        using var edge = await Enrollee.EnrollEdgeAsync(_portal, await Enrollee.CreateProvisioningKeyAsync(_admin, ProvisioningKinds.Edge));

        using var deviceClient = device.CreateClient(_portal);
        var self = await deviceClient.GetFromJsonAsync<DeviceSelf>("config/agent/self", PortalServer.Json);
        Assert.Equal((device.Response.SubjectId, user.Id, "dora@example.test"), (self!.DeviceId, self.UserId, self.UserEmail));
        Assert.Equal([group.Id], self.GroupIds);

        using var anonymousClient = anonymous.CreateClient(_portal);
        var nobody = await anonymousClient.GetFromJsonAsync<DeviceSelf>("config/agent/self", PortalServer.Json);
        Assert.Null(nobody!.UserId);
        Assert.Empty(nobody.GroupIds);

        using var edgeClient = edge.CreateClient(_portal);
        Assert.Equal(HttpStatusCode.Forbidden, (await edgeClient.GetAsync("config/agent/self")).StatusCode);
    }

    [Fact]
    public async Task Adding_a_user_to_a_group_republishes_the_edge_bundle()
    {
        using var edge = await Enrollee.EnrollEdgeAsync(_portal, await Enrollee.CreateProvisioningKeyAsync(_admin, ProvisioningKinds.Edge));
        using var edgeClient = edge.CreateClient(_portal);
        var group = (await (await _admin.PostAsJsonAsync("groups", new CreateGroupRequest("finance"), PortalServer.Json)).Content.ReadFromJsonAsync<GroupDto>(PortalServer.Json))!;
        var user = (await (await _admin.PostAsJsonAsync("users", new CreateUserRequest("carol@example.test"), PortalServer.Json)).Content.ReadFromJsonAsync<UserDto>(PortalServer.Json))!;
        await WaitForEdgeBodyAsync(edgeClient, b => b["users"]!.AsArray().Count == 1);

        (await _admin.PatchAsJsonAsync($"users/{user.Id}", new UpdateUserRequest(GroupIds: [group.Id]), PortalServer.Json)).EnsureSuccessStatusCode();

        var body = await WaitForEdgeBodyAsync(edgeClient, b => b["users"]![0]!["groups"]!.AsArray().Count == 1);
        Assert.Equal("finance", (string?)body["users"]![0]!["groups"]![0]);
    }

    [Fact]
    public async Task Long_poll_returns_soon_after_a_revocation_with_a_bundle_that_verifies_and_the_old_one_is_a_rollback()
    {
        using var device = await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin));
        using var edge = await Enrollee.EnrollEdgeAsync(_portal, await Enrollee.CreateProvisioningKeyAsync(_admin, ProvisioningKinds.Edge));
        // The device's enrollment changes the edge bundle too (its devices list): let that be published first.
        await _portal.Services.GetRequiredService<ConfigPublisher>().SettledAsync(_tenant.Id, TimeSpan.FromSeconds(10), CancellationToken.None);
        using var edgeClient = edge.CreateClient(_portal);
        var first = await edgeClient.GetAsync("config/edge");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var oldDocument = await first.Content.ReadAsByteArrayAsync();

        using var poll = new HttpRequestMessage(HttpMethod.Get, "config/edge?wait=30");
        poll.Headers.TryAddWithoutValidation("If-None-Match", first.Headers.ETag!.Tag);
        var pending = edgeClient.SendAsync(poll);
        await Task.Delay(300);
        Assert.False(pending.IsCompleted, "The long poll answered before anything changed.");

        var watch = Stopwatch.StartNew();
        (await _admin.PostAsync($"devices/{device.Response.SubjectId}/revoke", null)).EnsureSuccessStatusCode();
        var changed = await pending.DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"The long poll took {watch.Elapsed} after the change.");
        var newDocument = await changed.Content.ReadAsByteArrayAsync();

        var spki = PublicKeySpki(edge.Response.ConfigKeyPublicPem);
        Assert.Equal(spki, PublicKeySpki(_tenant.ConfigKeyPublicPem));
        var verifier = new BundleVerifier([spki], _tenant.Id.ToString(), BundleConsumers.Edge, TimeProvider.System);
        var older = verifier.Verify(oldDocument, null);
        Assert.True(older.IsValid, older.Reason);
        var newer = verifier.Verify(newDocument, older.Bundle!.Header.Version);
        Assert.True(newer.IsValid, newer.Reason);
        Assert.True(newer.Bundle!.Header.Version > older.Bundle.Header.Version);
        Assert.Equal($"\"v{newer.Bundle.Header.Version}\"", changed.Headers.ETag?.Tag);
        Assert.Contains(device.Response.SubjectId.ToString(), newer.Bundle.Body["revoked"]!.ToJsonString(), StringComparison.Ordinal);

        var rollback = verifier.Verify(oldDocument, newer.Bundle.Header.Version);
        Assert.Equal(BundleVerificationStatus.VersionRollback, rollback.Status);
    }

    [Fact]
    public async Task Agent_bundle_lists_the_active_edges()
    {
        using var device = await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin));
        using var edge = await Enrollee.EnrollEdgeAsync(_portal, await Enrollee.CreateProvisioningKeyAsync(_admin, ProvisioningKinds.Edge), "EDGE1.example.test:7444");
        using var client = device.CreateClient(_portal);
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        JsonNode body;
        do
        {
            body = JsonNode.Parse(await client.GetByteArrayAsync("config/agent?wait=0"))!["signed"]!["body"]!;
        }
        while (body["edges"]!.AsArray().Count == 0 && DateTime.UtcNow < deadline && await Delay());

        var listed = Assert.Single(body["edges"]!.AsArray())!;
        Assert.Equal(edge.Response.SubjectId.ToString(), (string?)listed["id"]);
        Assert.Equal("edge1.example.test:7444", (string?)listed["address"]);
        Assert.Equal(_tenant.Name, (string?)body["tenant"]!["name"]);
    }

    [Fact]
    public async Task Foreign_forged_and_missing_certificates_are_refused()
    {
        using var device = await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin));
        var identity = new CertificateIdentity(_tenant.Id.ToString(), IdentityKinds.Device, device.Response.SubjectId.ToString());

        // A CA that claims this tenant's id but is not its CA, issuing the real device's identity.
        using var impostor = CertificateAuthority.Create(_tenant.Id.ToString(), "impostor", TimeProvider.System);
        using var key = CertificateSigningRequests.CreateKey();
        var issued = impostor.Issue(CertificateSigningRequests.Create(key, "laptop"), identity, TimeSpan.FromDays(1));
        using var foreign = Enrollee.WithKey(issued.CertificatePem, key);

        // Self-signed with the real device's identity and even its serial.
        var request = new CertificateRequest("CN=laptop", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(identity.ToUri());
        request.CertificateExtensions.Add(san.Build());
        using var forged = request.Create(new X500DistinguishedName("CN=laptop"), X509SignatureGenerator.CreateForECDsa(key),
            DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), device.Certificate.GetSerialNumber().Reverse().ToArray()).CopyWithPrivateKey(key);
        Assert.Equal(identity, CertificateIdentity.FromCertificate(forged));

        foreach (var certificate in new X509Certificate2?[] { foreign, forged, null })
        {
            using var client = _portal.CreateClient(clientCertificate: certificate);
            var response = await client.GetAsync("config/agent");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        using var real = device.CreateClient(_portal);
        Assert.Equal(HttpStatusCode.OK, (await real.GetAsync("config/agent")).StatusCode);
    }

    [Fact]
    public async Task A_certificate_fetches_only_the_bundle_of_its_kind()
    {
        using var device = await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin));
        using var client = device.CreateClient(_portal);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("config/edge")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("config/connector")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("config/agent?wait=61")).StatusCode);
    }

    private static async Task<JsonNode> WaitForEdgeBodyAsync(HttpClient edgeClient, Func<JsonNode, bool> done)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (true)
        {
            var body = JsonNode.Parse(await edgeClient.GetByteArrayAsync("config/edge?wait=0"))!["signed"]!["body"]!;
            if (done(body) || DateTime.UtcNow > deadline)
            {
                return body;
            }

            await Task.Delay(50);
        }
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(50);
        return true;
    }

    private static byte[] PublicKeySpki(string pem)
    {
        using var key = ECDsa.Create();
        key.ImportFromPem(pem);
        return key.ExportSubjectPublicKeyInfo();
    }
}
