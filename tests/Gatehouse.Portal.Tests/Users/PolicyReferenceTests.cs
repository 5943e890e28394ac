using System.Net;
using System.Net.Http.Json;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Portal.Tests.Users;

/// <summary>Rules name users and groups; removing or renaming one a rule names would silently detach the rule.</summary>
public sealed class PolicyReferenceTests : IAsyncLifetime
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
    public async Task Users_and_groups_named_by_a_rule_cannot_be_deleted_or_renamed_until_the_rule_changes()
    {
        var group = (await (await _admin.PostAsJsonAsync("groups", new CreateGroupRequest("contractors"), PortalServer.Json)).Content.ReadFromJsonAsync<GroupDto>(PortalServer.Json))!;
        var user = (await (await _admin.PostAsJsonAsync("users", new CreateUserRequest("dave@example.test"), PortalServer.Json)).Content.ReadFromJsonAsync<UserDto>(PortalServer.Json))!;
        var rule = new PolicyRuleSpec { Name = "contractors-no-social", Action = PolicyActions.Block, Criteria = new PolicyCriteria { Groups = ["contractors"], Users = ["dave@example.test"] } };
        (await _admin.PutAsJsonAsync("policy", new PolicyDocument([rule]), PortalServer.Json)).EnsureSuccessStatusCode();

        Assert.Equal(HttpStatusCode.Conflict, (await _admin.DeleteAsync($"groups/{group.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await _admin.PatchAsJsonAsync($"groups/{group.Id}", new UpdateGroupRequest("vendors"), PortalServer.Json)).StatusCode);
        var refused = await _admin.DeleteAsync($"users/{user.Id}");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("contractors-no-social", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        (await _admin.PutAsJsonAsync("policy", new PolicyDocument([]), PortalServer.Json)).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"users/{user.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"groups/{group.Id}")).StatusCode);
    }
}
