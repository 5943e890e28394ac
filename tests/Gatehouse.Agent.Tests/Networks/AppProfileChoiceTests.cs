using System.Net.Http.Json;
using Gatehouse.Testing.Portal;
using Gatehouse.Wire.Agent;
using Gatehouse.Wire.Api;

namespace Gatehouse.Agent.Tests.Networks;

/// <summary>The app profile in force is the first, by priority, for everyone or for one of the device user's groups.</summary>
public sealed class AppProfileChoiceTests
{
    [Fact]
    public async Task A_profile_for_the_users_group_wins_and_leaving_the_group_brings_back_the_one_for_everyone()
    {
        await using var fixture = await AgentFixture.StartAsync();
        var engineers = (await (await fixture.Admin.PostAsJsonAsync("groups", new CreateGroupRequest("engineers"), TestPortal.Json)).Content.ReadFromJsonAsync<GroupDto>(TestPortal.Json))!;
        (await fixture.Admin.PostAsJsonAsync("app-profiles", new AppProfileRequest("engineering", Priority: 1, GroupIds: [engineers.Id], FailMode: FailModes.Open), TestPortal.Json)).EnsureSuccessStatusCode();
        (await fixture.Admin.PostAsJsonAsync("app-profiles", new AppProfileRequest("everyone", Priority: 2, FailMode: FailModes.Closed), TestPortal.Json)).EnsureSuccessStatusCode();
        await SetGroupsAsync(fixture, [engineers.Id]);
        await fixture.EnrollDeviceAsync();
        await using var agent = fixture.StartDataPlane(o => o with { OwnerRefreshInterval = TimeSpan.FromMilliseconds(500) });

        await AgentFixture.WaitUntilAsync(() => Task.FromResult(agent.Status.FailMode == FailModes.Open), "the engineers' profile (fail-open)", () => agent.Status);
        Assert.Equal(AgentStates.Connected, agent.Status.State);

        await SetGroupsAsync(fixture, []);
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(agent.Status.FailMode == FailModes.Closed), "the profile for everyone (fail-closed) once the user left the group", () => agent.Status);
        Assert.Empty(Bundles.DeviceOwner.LoadGroups(fixture.StateDirectory));
    }

    private static async Task SetGroupsAsync(AgentFixture fixture, Guid[] groups) =>
        (await fixture.Admin.PatchAsJsonAsync($"users/{fixture.User.Id}", new UpdateUserRequest(GroupIds: groups), TestPortal.Json)).EnsureSuccessStatusCode();
}
