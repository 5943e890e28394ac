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
    /// <remarks>Edge names may repeat (a re-enrolled edge often keeps a revoked one's name): a name means its active edge.</remarks>
    public static Task<IReadOnlyList<Guid>> EdgeIdsAsync(Invocation run, IReadOnlyList<string> namesOrIds) =>
        IdsAsync<EdgeDto>(run, "edges", "edge", namesOrIds, e => (e.Id, e.Name), e => e.Status == DeviceStatuses.Active);

    /// <summary>
    /// The ids of <paramref name="namesOrIds"/>: an id stands for itself, a name (any case) is looked up in the
    /// list at <paramref name="collection"/>, which is fetched only when a name is given. A name several share means the
    /// one <paramref name="current"/> picks (an edge's active one), else it is refused with their ids.
    /// </summary>
    public static async Task<IReadOnlyList<Guid>> IdsAsync<T>(Invocation run, string collection, string noun, IReadOnlyList<string> namesOrIds, Func<T, (Guid Id, string Name)> key, Func<T, bool>? current = null)
    {
        if (namesOrIds.All(n => Guid.TryParse(n, out _)))
        {
            return [.. namesOrIds.Select(Guid.Parse)];
        }

        var known = (await run.Client.ListAsync<T>(collection, null, run.Cancellation)).Value;
        return [.. namesOrIds.Select(n => Guid.TryParse(n, out var id) ? id : IdOfName(known, n, noun, key, current))];
    }

    // The portal lets names differ only in case (zz-sg, ZZ-SG): the name as written wins, then any case if only one has it.
    private static Guid IdOfName<T>(IReadOnlyList<T> known, string name, string noun, Func<T, (Guid Id, string Name)> key, Func<T, bool>? current)
    {
        var named = known.Where(k => string.Equals(key(k).Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
        if (named.Count > 1 && named.Any(k => key(k).Name == name))
        {
            named = [.. named.Where(k => key(k).Name == name)];
        }

        if (named.Count > 1 && current is not null && named.Count(current) >= 1)
        {
            named = [.. named.Where(current)];
        }

        return named.Count switch
        {
            0 => throw new CliException(ExitCodes.NotFound, $"no {noun} named {name}"),
            1 => key(named[0]).Id,
            _ => throw new CliException(ExitCodes.Usage, $"{named.Count} {noun}s are named {name} ({string.Join(", ", named.Select(k => key(k).Id))}): give the id"),
        };
    }

    /// <summary>The URL category with this name, or null.</summary>
    public static async Task<UrlCategoryDto?> CategoryOrNullAsync(Invocation run, string name, IReadOnlyList<UrlCategoryDto>? known = null)
    {
        known ??= (await run.Client.ListAsync<UrlCategoryDto>("categories", null, run.Cancellation)).Value;
        if (known.FirstOrDefault(c => c.Name == name) is { } exact)
        {
            return exact;
        }

        var inAnyCase = known.Where(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
        return inAnyCase.Count <= 1 ? inAnyCase.FirstOrDefault()
            : throw new CliException(ExitCodes.Usage, $"{inAnyCase.Count} categories are named {name} in some case ({string.Join(", ", inAnyCase.Select(c => c.Name))}): give the name as it is written");
    }
}
