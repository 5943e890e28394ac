using System.Net;
using System.Net.Http.Json;
using Gatehouse.Portal.Profiles;
using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Trust.Secrets;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Portal.Tests.Profiles;

public sealed class ProfileTests : IAsyncLifetime
{
    private const string LogoutPassword = "let-me-log-out-please";
    private const string DisablePassword = "turn-it-off-now";

    private PortalServer _portal = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalServer.StartAsync();
        _client = await _portal.SignInAsync();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _portal.DisposeAsync();
    }

    private static readonly TrustedNetworkCriteria Office = new(
        DnsServers: ["10.0.0.53", "2001:db8::53"],
        SearchDomains: ["Corp.example"],
        HostResolves: new HostResolvesCheck("intranet.corp.example", "10.0.0.10"),
        Beacon: new TlsBeaconCheck("beacon.corp.example:443", new string('A', 64)));

    [Fact]
    public async Task App_profile_passwords_are_stored_hashed_and_never_returned_or_audited()
    {
        var forwarding = await CreateAsync<ForwardingProfileDto>("forwarding-profiles", new ForwardingProfileRequest("default", "none", "tunnel", "local-proxy"));
        var response = await _client.PostAsJsonAsync("app-profiles", new AppProfileRequest(
            "laptops", FailMode: "closed", TrustedNetwork: Office, ForwardingProfileId: forwarding.Id, LogoutPassword: LogoutPassword, DisablePassword: DisablePassword), PortalServer.Json);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<AppProfileDto>(PortalServer.Json))!;
        Assert.True(created.HasLogoutPassword);
        Assert.True(created.HasDisablePassword);
        Assert.Equal(100, created.Priority);
        Assert.Equal(10, created.CaptivePortalPauseMinutes);
        Assert.Equal(new string('a', 64), created.TrustedNetwork.Beacon!.Sha256);
        Assert.Equal(["corp.example"], created.TrustedNetwork.SearchDomains!);

        var hash = PasswordHasher.Hash(LogoutPassword);
        using (var scope = _portal.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
            var stored = await db.Set<AppProfile>().IgnoreQueryFilters().SingleAsync(p => p.Id == created.Id);
            Assert.NotNull(stored.LogoutPasswordHash);
            Assert.NotEqual(LogoutPassword, stored.LogoutPasswordHash);
            Assert.True(PasswordHasher.Verify(LogoutPassword, stored.LogoutPasswordHash));
            Assert.True(PasswordHasher.Verify(DisablePassword, stored.DisablePasswordHash!));
        }

        // null keeps the passwords, "" removes one.
        var updated = await _client.PutAsJsonAsync($"app-profiles/{created.Id}", new AppProfileRequest("laptops", Priority: 5, FailMode: "open", DisablePassword: ""), PortalServer.Json);
        var afterUpdate = (await updated.Content.ReadFromJsonAsync<AppProfileDto>(PortalServer.Json))!;
        Assert.True(afterUpdate.HasLogoutPassword);
        Assert.False(afterUpdate.HasDisablePassword);

        var everything = body + await _client.GetStringAsync($"app-profiles/{created.Id}") + await _client.GetStringAsync("app-profiles") + await _client.GetStringAsync("audit?limit=500");
        Assert.DoesNotContain(LogoutPassword, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(DisablePassword, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(hash, everything, StringComparison.Ordinal);
        Assert.DoesNotContain("PasswordHash", everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Short_password_is_refused()
    {
        var response = await _client.PostAsJsonAsync("app-profiles", new AppProfileRequest("p", FailMode: "open", LogoutPassword: "short"), PortalServer.Json);
        Assert.Equal("logoutPassword", (await Problem.ReadAsync(response, HttpStatusCode.BadRequest)).Field);
    }

    public static TheoryData<TrustedNetworkCriteria, string> BadTrustedNetworks => new()
    {
        { Office with { Beacon = new TlsBeaconCheck("beacon.corp.example:443", "abc123") }, "trustedNetwork.beacon.sha256" },
        { Office with { Beacon = new TlsBeaconCheck("beacon.corp.example:443", new string('g', 64)) }, "trustedNetwork.beacon.sha256" },
        { Office with { Beacon = new TlsBeaconCheck("beacon.corp.example", new string('a', 64)) }, "trustedNetwork.beacon.address" },
        { Office with { DnsServers = ["10.0.0.53", "dns.corp.example"] }, "trustedNetwork.dnsServers[1]" },
        { Office with { SearchDomains = ["*.corp.example"] }, "trustedNetwork.searchDomains[0]" },
        { Office with { HostResolves = new HostResolvesCheck("intranet.corp.example", "not-an-ip") }, "trustedNetwork.hostResolves.address" },
    };

    [Theory]
    [MemberData(nameof(BadTrustedNetworks))]
    public async Task Bad_trusted_network_criteria_are_refused_by_field(TrustedNetworkCriteria criteria, string field)
    {
        var response = await _client.PostAsJsonAsync("app-profiles", new AppProfileRequest("p", FailMode: "open", TrustedNetwork: criteria), PortalServer.Json);
        Assert.Equal(field, (await Problem.ReadAsync(response, HttpStatusCode.BadRequest)).Field);
        Assert.Empty((await _client.GetFromJsonAsync<Page<AppProfileDto>>("app-profiles", PortalServer.Json))!.Items);
    }

    [Fact]
    public async Task Out_of_range_and_unknown_references_are_refused_by_field()
    {
        async Task<string?> FieldAsync(AppProfileRequest request) =>
            (await Problem.ReadAsync(await _client.PostAsJsonAsync("app-profiles", request, PortalServer.Json), HttpStatusCode.BadRequest)).Field;

        Assert.Equal("failMode", await FieldAsync(new AppProfileRequest("p", FailMode: "sideways")));
        Assert.Equal("priority", await FieldAsync(new AppProfileRequest("p", FailMode: "open", Priority: 1001)));
        Assert.Equal("captivePortalPauseMinutes", await FieldAsync(new AppProfileRequest("p", FailMode: "open", CaptivePortalPauseMinutes: 61)));
        Assert.Equal("forwardingProfileId", await FieldAsync(new AppProfileRequest("p", FailMode: "open", ForwardingProfileId: Guid.NewGuid())));
        Assert.Equal("groupIds[0]", await FieldAsync(new AppProfileRequest("p", FailMode: "open", GroupIds: [Guid.NewGuid()])));
    }

    [Fact]
    public async Task Forwarding_profile_actions_are_checked_and_a_used_profile_cannot_be_deleted()
    {
        var response = await _client.PostAsJsonAsync("forwarding-profiles", new ForwardingProfileRequest("f", "tunnel", "teleport", "none"), PortalServer.Json);
        Assert.Equal("untrusted", (await Problem.ReadAsync(response, HttpStatusCode.BadRequest)).Field);

        var forwarding = await CreateAsync<ForwardingProfileDto>("forwarding-profiles", new ForwardingProfileRequest("f", "tunnel", "tunnel", "none"));
        await CreateAsync<AppProfileDto>("app-profiles", new AppProfileRequest("uses-f", FailMode: "open", ForwardingProfileId: forwarding.Id));
        var problem = await Problem.ReadAsync(await _client.DeleteAsync($"forwarding-profiles/{forwarding.Id}"), HttpStatusCode.Conflict);
        Assert.Contains("uses-f", problem.Detail, StringComparison.Ordinal);
    }

    private async Task<T> CreateAsync<T>(string path, object request)
    {
        var response = await _client.PostAsJsonAsync(path, request, PortalServer.Json);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<T>(PortalServer.Json))!;
    }
}
