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
    public static Task<IReadOnlyList<Guid>> GroupIdsAsync(Invocation run, IReadOnlyList<string> namesOrIds) =>
        IdsAsync<GroupDto>(run, "groups", "group", namesOrIds, g => (g.Id, g.Name));

    /// <summary>The id of the group with this name or id.</summary>
    public static async Task<Guid> GroupIdAsync(Invocation run, string nameOrId) => (await GroupIdsAsync(run, [nameOrId]))[0];

    /// <summary>The id of the connector group with this name or id.</summary>
    public static async Task<Guid> ConnectorGroupIdAsync(Invocation run, string nameOrId) =>
        (await IdsAsync<ConnectorGroupDto>(run, "connector-groups", "connector group", [nameOrId], g => (g.Id, g.Name)))[0];

    /// <summary>The ids of enrolled edges given by name or id, in order.</summary>
    public static Task<IReadOnlyList<Guid>> EdgeIdsAsync(Invocation run, IReadOnlyList<string> namesOrIds) =>
        IdsAsync<EdgeDto>(run, "edges", "edge", namesOrIds, e => (e.Id, e.Name));

    /// <summary>
    /// The ids of <paramref name="namesOrIds"/>: an id stands for itself, a name (any case) is looked up in the
    /// list at <paramref name="collection"/>, which is fetched only when a name is given.
    /// </summary>
    private static async Task<IReadOnlyList<Guid>> IdsAsync<T>(Invocation run, string collection, string noun, IReadOnlyList<string> namesOrIds, Func<T, (Guid Id, string Name)> key)
    {
        if (namesOrIds.All(n => Guid.TryParse(n, out _)))
        {
            return [.. namesOrIds.Select(Guid.Parse)];
        }

        var known = (await run.Client.ListAsync<T>(collection, null, run.Cancellation)).Value.Select(key).ToList();
        return [.. namesOrIds.Select(n => Guid.TryParse(n, out var id) ? id
            : known.FirstOrDefault(k => string.Equals(k.Name, n, StringComparison.OrdinalIgnoreCase)) is { Name: not null } found ? found.Id
            : throw new CliException(ExitCodes.NotFound, $"no {noun} named {n}"))];
    }

    /// <summary>The URL category with this name, or null.</summary>
    public static async Task<UrlCategoryDto?> CategoryOrNullAsync(Invocation run, string name, IReadOnlyList<UrlCategoryDto>? known = null)
    {
        known ??= (await run.Client.ListAsync<UrlCategoryDto>("categories", null, run.Cancellation)).Value;
        return known.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));
    }
}
