using Gatehouse.Wire.Api;

namespace Gatehouse.Cli.Commands;

/// <summary>
/// Turns what admins type (emails, names, ids) into the ids the API takes, through list calls.
/// A name or id that matches nothing is "not found" (exit 4), like a 404.
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

    /// <summary>The tenant's groups, fetched once, for a command that resolves many names and ids and names them back.</summary>
    public static Task<KnownNames> GroupsAsync(Invocation run) => KnownAsync<GroupDto>(run, "groups", "group", g => (g.Id, g.Name));

    /// <summary>The id of the connector group with this name or id.</summary>
    public static async Task<Guid> ConnectorGroupIdAsync(Invocation run, string nameOrId) =>
        (await IdsAsync<ConnectorGroupDto>(run, "connector-groups", "connector group", [nameOrId], g => (g.Id, g.Name)))[0];

    /// <summary>The ids of enrolled edges given by name or id, in order.</summary>
    /// <remarks>Edge names may repeat (a re-enrolled edge often keeps a revoked one's name): a name means its active edge.</remarks>
    public static Task<IReadOnlyList<Guid>> EdgeIdsAsync(Invocation run, IReadOnlyList<string> namesOrIds) =>
        IdsAsync<EdgeDto>(run, "edges", "edge", namesOrIds, e => (e.Id, e.Name), e => e.Status == DeviceStatuses.Active);

    /// <summary>
    /// The ids of <paramref name="namesOrIds"/>, looked up in the list at <paramref name="collection"/> (fetched when any is
    /// given): a name in any case, an id as it is. One that matches nothing is not found (exit 4), whether name or id.
    /// </summary>
    public static async Task<IReadOnlyList<Guid>> IdsAsync<T>(Invocation run, string collection, string noun, IReadOnlyList<string> namesOrIds, Func<T, (Guid Id, string Name)> key, Func<T, bool>? current = null)
    {
        if (namesOrIds.Count == 0)
        {
            return [];
        }

        var known = await KnownAsync(run, collection, noun, key, current);
        return [.. namesOrIds.Select(known.IdOf)];
    }

    private static async Task<KnownNames> KnownAsync<T>(Invocation run, string collection, string noun, Func<T, (Guid Id, string Name)> key, Func<T, bool>? current = null)
    {
        var listed = (await run.Client.ListAsync<T>(collection, null, run.Cancellation)).Value;
        return new KnownNames(noun, [.. listed.Select(item => (key(item).Id, key(item).Name, current?.Invoke(item) ?? false))]);
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

/// <summary>
/// One kind of object of the tenant (groups, edges), as the portal listed it: turns what admins type into ids, and ids
/// back into names for messages.
/// </summary>
/// <param name="noun">What the objects are, for messages (<c>group</c>).</param>
/// <param name="items">Each one's id, name, and whether it is the one a shared name means (an edge's active one).</param>
internal sealed class KnownNames(string noun, IReadOnlyList<(Guid Id, string Name, bool Current)> items)
{
    /// <summary>
    /// The id of the object with this id, or with this name. The portal lets names differ only in case (zz-sg, ZZ-SG):
    /// the name as written wins, then any case if only one has it, then the current one; else it is refused with their ids.
    /// </summary>
    /// <exception cref="CliException">Nothing matches (exit 4), or several do (exit 2).</exception>
    public Guid IdOf(string nameOrId)
    {
        if (Guid.TryParse(nameOrId, out var id))
        {
            // An id the list lacks is "not found", as a name is: the portal would answer 400 for the reference.
            return items.Any(i => i.Id == id) ? id : throw new CliException(ExitCodes.NotFound, $"no {noun} with id {id}");
        }

        var named = items.Where(i => string.Equals(i.Name, nameOrId, StringComparison.OrdinalIgnoreCase)).ToList();
        if (named.Count > 1 && named.Any(i => i.Name == nameOrId))
        {
            named = [.. named.Where(i => i.Name == nameOrId)];
        }

        if (named.Count > 1 && named.Any(i => i.Current))
        {
            named = [.. named.Where(i => i.Current)];
        }

        return named.Count switch
        {
            0 => throw new CliException(ExitCodes.NotFound, $"no {noun} named {nameOrId}"),
            1 => named[0].Id,
            _ => throw new CliException(ExitCodes.Usage, $"{named.Count} {noun}s are named {nameOrId} ({string.Join(", ", named.Select(i => i.Id))}): give the id"),
        };
    }

    /// <summary>The name of the object with this id, printable; the id itself when the list lacks it.</summary>
    public string NameOf(Guid id) => items.FirstOrDefault(i => i.Id == id) is { Name: { } name } ? Output.Table.Printable(name) : id.ToString();
}
