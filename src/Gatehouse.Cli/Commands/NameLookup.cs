using Gatehouse.Wire.Api;

namespace Gatehouse.Cli.Commands;

/// <summary>
/// Turns what admins type (emails, names) into the ids the API takes, through list calls.
/// A name that matches nothing is "not found" (exit 4), like a 404.
/// </summary>
internal static class NameLookup
{
    /// <summary>The user with this id or email.</summary>
    public static async Task<UserDto> UserAsync(Invocation run, string idOrEmail)
    {
        if (Guid.TryParse(idOrEmail, out var id))
        {
            return (await run.Client.GetAsync<UserDto>($"users/{id}", run.Cancellation)).Value;
        }
        var matches = await run.Client.ListAsync<UserDto>(CliApp.Query("users", ("email", idOrEmail)), null, run.Cancellation);
        return matches.Value.FirstOrDefault(u => string.Equals(u.Email, idOrEmail, StringComparison.OrdinalIgnoreCase))
            ?? throw new CliException(ExitCodes.NotFound, $"no user with email {idOrEmail}");
    }

    /// <summary>The ids of groups given by name or id, in order.</summary>
    public static async Task<IReadOnlyList<Guid>> GroupIdsAsync(Invocation run, IReadOnlyList<string> namesOrIds)
    {
        if (namesOrIds.All(n => Guid.TryParse(n, out _)))
        {
            return [.. namesOrIds.Select(Guid.Parse)];
        }
        var groups = (await run.Client.ListAsync<GroupDto>("groups", null, run.Cancellation)).Value;
        return [.. namesOrIds.Select(n => Guid.TryParse(n, out var id) ? id
            : groups.FirstOrDefault(g => string.Equals(g.Name, n, StringComparison.OrdinalIgnoreCase))?.Id
              ?? throw new CliException(ExitCodes.NotFound, $"no group named {n}"))];
    }

    /// <summary>The id of the group with this name or id.</summary>
    public static async Task<Guid> GroupIdAsync(Invocation run, string nameOrId) => (await GroupIdsAsync(run, [nameOrId]))[0];

    /// <summary>The id of the connector group with this name or id.</summary>
    public static async Task<Guid> ConnectorGroupIdAsync(Invocation run, string nameOrId)
    {
        if (Guid.TryParse(nameOrId, out var id))
        {
            return id;
        }
        var groups = (await run.Client.ListAsync<ConnectorGroupDto>("connector-groups", null, run.Cancellation)).Value;
        return groups.FirstOrDefault(g => string.Equals(g.Name, nameOrId, StringComparison.OrdinalIgnoreCase))?.Id
            ?? throw new CliException(ExitCodes.NotFound, $"no connector group named {nameOrId}");
    }

    /// <summary>The URL category with this name, or null.</summary>
    public static async Task<UrlCategoryDto?> CategoryOrNullAsync(Invocation run, string name, IReadOnlyList<UrlCategoryDto>? known = null)
    {
        known ??= (await run.Client.ListAsync<UrlCategoryDto>("categories", null, run.Cancellation)).Value;
        return known.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));
    }
}
