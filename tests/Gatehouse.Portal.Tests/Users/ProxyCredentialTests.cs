using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tests.Config;
using Gatehouse.Portal.Tests.Enrollment;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Portal.Tests.Storage;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Portal.Tests.Users;

public sealed class ProxyCredentialTests : IAsyncLifetime
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
    public async Task Password_is_shown_once_and_the_database_holds_only_its_sha256()
    {
        var user = await CreateUserAsync("ana@example.test");
        var response = await _admin.PostAsJsonAsync($"users/{user.Id}/proxy-credentials", new CreateProxyCredentialRequest("laptop browser"), PortalServer.Json);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<CreateProxyCredentialResponse>(PortalServer.Json))!;
        Assert.Equal($"/api/v1/users/{user.Id}/proxy-credentials/{created.Credential.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal(("ana@example.test", user.Id, "laptop browser"), (created.Credential.Username, created.Credential.UserId, created.Credential.Description));
        Assert.Matches("^ghx_[A-Za-z0-9_-]{43}$", created.Password);

        var listed = await _admin.GetStringAsync($"users/{user.Id}/proxy-credentials");
        Assert.Contains(created.Credential.Id.ToString(), listed, StringComparison.Ordinal);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(created.Password)));
        Assert.DoesNotContain(created.Password, listed, StringComparison.Ordinal);
        Assert.DoesNotContain(hash, listed, StringComparison.Ordinal);

        // Wait until the edge bundle carries the hash, so the scan below also covers the stored bundles.
        using var edge = await Enrollee.EnrollEdgeAsync(_portal, await Enrollee.CreateProvisioningKeyAsync(_admin, ProvisioningKinds.Edge));
        using var edgeClient = edge.CreateClient(_portal);
        await EdgeBundle.WaitForBodyAsync(edgeClient, b => b["proxyCredentials"]!.AsArray().Count == 1, "the credential is published");

        Assert.Empty(await DatabaseScan.ColumnsHoldingAsync(_portal, created.Password));
        Assert.Empty(await DatabaseScan.ColumnsHoldingAsync(_portal, created.Password[4..]));
        // The scan finds what is there: the hash, in the credential's row and in the edge bundle.
        Assert.Equal(["ConfigBundles.Document", "ProxyCredentials.PasswordSha256"], (await DatabaseScan.ColumnsHoldingAsync(_portal, hash)).Order(StringComparer.Ordinal));

        var audit = (await _admin.GetFromJsonAsync<Page<AuditEntryDto>>("audit?action=proxy-credential.create", PortalServer.Json))!.Items;
        var entry = Assert.Single(audit);
        Assert.Equal(created.Credential.Id.ToString(), entry.ObjectId);
        Assert.Contains("laptop browser", entry.After, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Edge_bundle_carries_the_hashes_and_follows_creation_deletion_disabling_and_email_changes()
    {
        using var edge = await Enrollee.EnrollEdgeAsync(_portal, await Enrollee.CreateProvisioningKeyAsync(_admin, ProvisioningKinds.Edge));
        using var edgeClient = edge.CreateClient(_portal);
        var bob = await CreateUserAsync("bob@example.test");
        var ana = await CreateUserAsync("ana@example.test");
        var bobs = await CreateCredentialAsync(bob.Id);
        var anas = await CreateCredentialAsync(ana.Id);
        var anasSecond = await CreateCredentialAsync(ana.Id);

        var body = await EdgeBundle.WaitForBodyAsync(edgeClient, b => b["proxyCredentials"]!.AsArray().Count == 3, "three credentials are published");
        var entries = body["proxyCredentials"]!.AsArray().Select(e => ((string)e!["username"]!, (string)e["userId"]!, (string)e["sha256"]!)).ToList();
        // By user name, then by credential id (the order they were made in).
        Assert.Equal(
            [("ana@example.test", ana.Id.ToString(), Sha256(anas.Password)), ("ana@example.test", ana.Id.ToString(), Sha256(anasSecond.Password)), ("bob@example.test", bob.Id.ToString(), Sha256(bobs.Password))],
            entries);
        Assert.Equal(["sha256", "userId", "username"], body["proxyCredentials"]![0]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));

        (await _admin.PatchAsJsonAsync($"users/{ana.Id}", new UpdateUserRequest(Disabled: true), PortalServer.Json)).EnsureSuccessStatusCode();
        body = await EdgeBundle.WaitForBodyAsync(edgeClient, b => b["proxyCredentials"]!.AsArray().Count == 1, "a disabled user's credentials are withdrawn");
        Assert.Equal("bob@example.test", (string?)body["proxyCredentials"]![0]!["username"]);

        (await _admin.PatchAsJsonAsync($"users/{ana.Id}", new UpdateUserRequest(Disabled: false), PortalServer.Json)).EnsureSuccessStatusCode();
        await EdgeBundle.WaitForBodyAsync(edgeClient, b => b["proxyCredentials"]!.AsArray().Count == 3, "an enabled user's credentials are back");

        // The API cannot change an email yet; whatever does (an import, a directory sync) republishes with the new user name.
        await RenameUserAsync(ana.Id, "ana.new@example.test");
        body = await EdgeBundle.WaitForBodyAsync(edgeClient, b => b["proxyCredentials"]!.AsArray().Any(e => (string?)e!["username"] == "ana.new@example.test"), "the new email is the user name");
        Assert.Equal(["ana.new@example.test", "ana.new@example.test", "bob@example.test"], body["proxyCredentials"]!.AsArray().Select(e => (string)e!["username"]!));

        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"users/{ana.Id}/proxy-credentials/{anas.Credential.Id}")).StatusCode);
        body = await EdgeBundle.WaitForBodyAsync(edgeClient, b => b["proxyCredentials"]!.AsArray().Count == 2, "the deleted credential is withdrawn");
        Assert.DoesNotContain(Sha256(anas.Password), body["proxyCredentials"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Single((await _admin.GetFromJsonAsync<Page<ProxyCredentialDto>>($"users/{ana.Id}/proxy-credentials", PortalServer.Json))!.Items);
        Assert.Single((await _admin.GetFromJsonAsync<Page<AuditEntryDto>>("audit?action=proxy-credential.delete", PortalServer.Json))!.Items);

        // Deleting the user takes its credentials along.
        (await _admin.DeleteAsync($"users/{ana.Id}")).EnsureSuccessStatusCode();
        await EdgeBundle.WaitForBodyAsync(edgeClient, b => b["proxyCredentials"]!.AsArray().Count == 1, "a deleted user's credentials are gone");
    }

    [Fact]
    public async Task Edge_bundle_maps_active_devices_to_their_users_in_id_order()
    {
        var ana = await CreateUserAsync("ana@example.test");
        using var edge = await Enrollee.EnrollEdgeAsync(_portal, await Enrollee.CreateProvisioningKeyAsync(_admin, ProvisioningKinds.Edge));
        using var anasLaptop = await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin, userId: ana.Id));
        using var kiosk = await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin));
        using var stolen = await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin, userId: ana.Id));
        (await _admin.PostAsync($"devices/{stolen.Response.SubjectId}/revoke", null)).EnsureSuccessStatusCode();

        using var edgeClient = edge.CreateClient(_portal);
        var body = await EdgeBundle.WaitForBodyAsync(edgeClient, b => b["revoked"]!["devices"]!.AsArray().Count == 1, "the revocation is published");
        var devices = body["devices"]!.AsArray();
        var expected = new[] { (anasLaptop.Response.SubjectId, (Guid?)ana.Id), (kiosk.Response.SubjectId, null) }
            .OrderBy(d => d.Item1.ToString(), StringComparer.Ordinal)
            .Select(d => (d.Item1.ToString(), d.Item2?.ToString()));
        Assert.Equal(expected, devices.Select(d => ((string)d!["id"]!, (string?)d["userId"])));
        Assert.All(devices, d => Assert.True(d!.AsObject().ContainsKey("userId"), "userId is null, not left out, for a device without a user"));
    }

    [Fact]
    public async Task Only_owners_and_admins_make_and_delete_credentials_but_auditors_list_them()
    {
        var user = await CreateUserAsync("ana@example.test");
        var credential = await CreateCredentialAsync(user.Id);
        using var auditor = await TestAdmins.SignInAuditorAsync(_portal, _admin);

        Assert.Equal(HttpStatusCode.OK, (await auditor.GetAsync($"users/{user.Id}/proxy-credentials")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await auditor.PostAsJsonAsync($"users/{user.Id}/proxy-credentials", new CreateProxyCredentialRequest(), PortalServer.Json)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await auditor.DeleteAsync($"users/{user.Id}/proxy-credentials/{credential.Credential.Id}")).StatusCode);
        Assert.Single((await _admin.GetFromJsonAsync<Page<ProxyCredentialDto>>($"users/{user.Id}/proxy-credentials", PortalServer.Json))!.Items);
    }

    [Fact]
    public async Task Unknown_users_credentials_of_another_user_and_long_descriptions_are_refused()
    {
        var ana = await CreateUserAsync("ana@example.test");
        var bob = await CreateUserAsync("bob@example.test");
        var anas = await CreateCredentialAsync(ana.Id);

        Assert.Equal(HttpStatusCode.NotFound, (await _admin.PostAsJsonAsync($"users/{Guid.NewGuid()}/proxy-credentials", new CreateProxyCredentialRequest(), PortalServer.Json)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync($"users/{Guid.NewGuid()}/proxy-credentials")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.DeleteAsync($"users/{bob.Id}/proxy-credentials/{anas.Credential.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.DeleteAsync($"users/{ana.Id}/proxy-credentials/{Guid.NewGuid()}")).StatusCode);

        var tooLong = await _admin.PostAsJsonAsync($"users/{ana.Id}/proxy-credentials", new CreateProxyCredentialRequest(new string('x', 201)), PortalServer.Json);
        Assert.Equal("description", (await Problem.ReadAsync(tooLong, HttpStatusCode.BadRequest)).Field);
        Assert.Single((await _admin.GetFromJsonAsync<Page<ProxyCredentialDto>>($"users/{ana.Id}/proxy-credentials", PortalServer.Json))!.Items);
    }

    [Fact]
    public async Task Another_tenant_cannot_reach_a_credential_even_through_its_own_user()
    {
        var (_, other, _, _) = await _portal.CreateTenantAsync("other");
        using (other)
        {
            var ana = await CreateUserAsync("ana@example.test");
            var anas = await CreateCredentialAsync(ana.Id);
            var theirs = (await (await other.PostAsJsonAsync("users", new CreateUserRequest("eve@other.example"), PortalServer.Json))
                .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<UserDto>(PortalServer.Json))!;

            Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync($"users/{theirs.Id}/proxy-credentials/{anas.Credential.Id}")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync($"users/{ana.Id}/proxy-credentials/{anas.Credential.Id}")).StatusCode);
            Assert.Empty((await other.GetFromJsonAsync<Page<ProxyCredentialDto>>($"users/{theirs.Id}/proxy-credentials", PortalServer.Json))!.Items);
            Assert.Single((await _admin.GetFromJsonAsync<Page<ProxyCredentialDto>>($"users/{ana.Id}/proxy-credentials", PortalServer.Json))!.Items);
        }
    }

    private async Task<UserDto> CreateUserAsync(string email) =>
        (await (await _admin.PostAsJsonAsync("users", new CreateUserRequest(email), PortalServer.Json)).EnsureSuccessStatusCode()
            .Content.ReadFromJsonAsync<UserDto>(PortalServer.Json))!;

    private async Task<CreateProxyCredentialResponse> CreateCredentialAsync(Guid userId) =>
        (await (await _admin.PostAsJsonAsync($"users/{userId}/proxy-credentials", new CreateProxyCredentialRequest(), PortalServer.Json)).EnsureSuccessStatusCode()
            .Content.ReadFromJsonAsync<CreateProxyCredentialResponse>(PortalServer.Json))!;

    /// <summary>Changes an email the way a future import or directory sync would: a saved change of the user row.</summary>
    private async Task RenameUserAsync(Guid userId, string email)
    {
        using var scope = _portal.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var user = await db.Users.IgnoreQueryFilters().SingleAsync(u => u.Id == userId);
        scope.ServiceProvider.GetRequiredService<TenantScope>().Enter(user.TenantId);
        user.Email = email;
        await db.SaveChangesAsync();
    }

    private static string Sha256(string password) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(password)));
}
