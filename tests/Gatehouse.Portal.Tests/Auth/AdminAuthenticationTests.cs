using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Portal.Tests.Auth;

public sealed class AdminAuthenticationTests : IAsyncLifetime
{
    private PortalServer _portal = null!;

    public async Task InitializeAsync() => _portal = await PortalServer.StartAsync();

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Fact]
    public async Task Api_without_credentials_answers_401_problem_details()
    {
        using var client = _portal.CreateClient();
        var response = await client.GetAsync("users");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Wrong_password_is_refused_and_creates_no_session()
    {
        using var client = _portal.CreateClient();
        var response = await client.PostAsJsonAsync("auth/login", new LoginRequest(PortalServer.OwnerEmail, "not the password"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("auth/whoami")).StatusCode);
    }

    [Fact]
    public async Task Session_change_without_csrf_token_is_refused()
    {
        using var client = await _portal.SignInAsync();
        client.DefaultRequestHeaders.Remove("X-CSRF-Token");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("users")).StatusCode);
        var response = await client.PostAsJsonAsync("groups", new CreateGroupRequest("no-csrf", null));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("CSRF", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        client.DefaultRequestHeaders.Add("X-CSRF-Token", "ghc_forged");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsJsonAsync("groups", new CreateGroupRequest("no-csrf", null))).StatusCode);
    }

    [Fact]
    public async Task Session_with_csrf_token_can_change_things()
    {
        using var client = await _portal.SignInAsync();
        var response = await client.PostAsJsonAsync("groups", new CreateGroupRequest("engineering", "Builders"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task Logout_ends_the_session()
    {
        using var client = await _portal.SignInAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync("auth/logout", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("auth/whoami")).StatusCode);
    }

    [Fact]
    public async Task Read_scoped_token_can_read_but_not_write()
    {
        using var client = await _portal.TokenClientAsync(scopes: TokenScopes.Read);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("users")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync("groups", new CreateGroupRequest("x", null))).StatusCode);
    }

    [Fact]
    public async Task Revoked_token_is_refused()
    {
        using var session = await _portal.SignInAsync();
        var created = await (await session.PostAsJsonAsync("tokens", new CreateApiTokenRequest("ci", [TokenScopes.Read], 1)))
            .Content.ReadFromJsonAsync<CreateApiTokenResponse>(PortalServer.Json);
        using var client = _portal.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", created!.Token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("users")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await session.DeleteAsync($"tokens/{created.ApiToken.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("users")).StatusCode);
    }

    [Fact]
    public async Task Token_is_stored_only_as_a_hash()
    {
        using var session = await _portal.SignInAsync();
        var created = await (await session.PostAsJsonAsync("tokens", new CreateApiTokenRequest("ci", [TokenScopes.Read], 1)))
            .Content.ReadFromJsonAsync<CreateApiTokenResponse>(PortalServer.Json);
        using var scope = _portal.Services.CreateScope();
        var stored = await scope.ServiceProvider.GetRequiredService<Gatehouse.Portal.Storage.PortalDbContext>().ApiTokens.IgnoreQueryFilters().SingleAsync(t => t.Id == created!.ApiToken.Id);
        Assert.NotEqual(created!.Token, stored.TokenHash);
        Assert.Equal(Trust.Secrets.PasswordHasher.HashToken(created.Token), stored.TokenHash);
        Assert.DoesNotContain(created.Token, System.Text.Json.JsonSerializer.Serialize(stored), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Auditor_can_read_but_not_change()
    {
        using var owner = await _portal.SignInAsync();
        var created = await (await owner.PostAsJsonAsync("admins", new CreateAdminRequest("auditor@example.test", AdminRoles.Auditor)))
            .Content.ReadFromJsonAsync<CreateAdminResponse>(PortalServer.Json);
        using (var first = await _portal.SignInAsync("auditor@example.test", created!.OneTimePassword))
        {
            (await first.PostAsJsonAsync("auth/password", new ChangePasswordRequest(created.OneTimePassword, "auditor-password-123"))).EnsureSuccessStatusCode();
        }

        using var auditor = await _portal.SignInAsync("auditor@example.test", "auditor-password-123");
        Assert.Equal(HttpStatusCode.OK, (await auditor.GetAsync("audit")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await auditor.PostAsJsonAsync("users", new CreateUserRequest("x@example.test", null, null))).StatusCode);
    }

    [Fact]
    public async Task One_time_password_must_be_changed_before_anything_else()
    {
        using var owner = await _portal.SignInAsync();
        var created = await (await owner.PostAsJsonAsync("admins", new CreateAdminRequest("new-admin@example.test", AdminRoles.Admin)))
            .Content.ReadFromJsonAsync<CreateAdminResponse>(PortalServer.Json);
        using var fresh = await _portal.SignInAsync("new-admin@example.test", created!.OneTimePassword);

        var refused = await fresh.GetAsync("users");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("one-time password", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var tooShort = await fresh.PostAsJsonAsync("auth/password", new ChangePasswordRequest(created.OneTimePassword, "short"));
        Assert.Equal(HttpStatusCode.BadRequest, tooShort.StatusCode);

        (await fresh.PostAsJsonAsync("auth/password", new ChangePasswordRequest(created.OneTimePassword, "a-much-longer-password"))).EnsureSuccessStatusCode();
        using var again = await _portal.SignInAsync("new-admin@example.test", "a-much-longer-password");
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync("users")).StatusCode);
    }

    [Fact]
    public async Task Every_admin_change_lands_in_the_audit_log_with_before_and_after()
    {
        using var client = await _portal.SignInAsync();
        var group = await (await client.PostAsJsonAsync("groups", new CreateGroupRequest("sales", null))).Content.ReadFromJsonAsync<GroupDto>(PortalServer.Json);
        (await client.PatchAsJsonAsync($"groups/{group!.Id}", new UpdateGroupRequest("sales-emea", null))).EnsureSuccessStatusCode();

        var page = await client.GetFromJsonAsync<Page<AuditEntryDto>>($"audit?objectId={group.Id}", PortalServer.Json);
        Assert.Equal(["group.create", "group.update"], page!.Items.Select(e => e.Action));
        var update = page.Items[1];
        Assert.Equal(PortalServer.OwnerEmail, update.Actor);
        Assert.Contains("\"sales\"", update.Before, StringComparison.Ordinal);
        Assert.Contains("\"sales-emea\"", update.After, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Password_reset_ends_sessions_and_hands_out_a_one_time_password()
    {
        using var before = await _portal.SignInAsync();
        var password = await Admins.PasswordReset.ResetAsync(_portal.Services, PortalServer.OwnerEmail.ToUpperInvariant(), CancellationToken.None);

        Assert.NotNull(password);
        Assert.Equal(HttpStatusCode.Unauthorized, (await before.GetAsync("auth/whoami")).StatusCode);
        using var stale = _portal.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await stale.PostAsJsonAsync("auth/login", new LoginRequest(PortalServer.OwnerEmail, PortalServer.OwnerPassword))).StatusCode);
        using var fresh = await _portal.SignInAsync(PortalServer.OwnerEmail, password!);
        Assert.Equal(HttpStatusCode.Forbidden, (await fresh.GetAsync("users")).StatusCode);
        Assert.Null(await Admins.PasswordReset.ResetAsync(_portal.Services, "nobody@example.test", CancellationToken.None));
    }

    [Fact]
    public async Task Password_guessing_is_cut_off_after_ten_attempts_a_minute()
    {
        using var client = _portal.CreateClient();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++)
        {
            statuses.Add((await client.PostAsJsonAsync("auth/login", new LoginRequest("guess@example.test", $"guess-{i}"))).StatusCode);
        }

        Assert.All(statuses.Take(10), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        var refused = await client.PostAsJsonAsync("auth/login", new LoginRequest(PortalServer.OwnerEmail, PortalServer.OwnerPassword));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("60", refused.Headers.RetryAfter?.ToString());
    }
}
