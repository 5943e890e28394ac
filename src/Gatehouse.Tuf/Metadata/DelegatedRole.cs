using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tuf.Json;

namespace Gatehouse.Tuf.Metadata;

/// <summary>
/// A role that targets metadata delegates part of its target paths to: by path patterns
/// (<c>*</c> and <c>?</c> within one path segment) or by prefixes of the SHA-256 of the path.
/// </summary>
/// <param name="Name">The role name; also its metadata file name (<c>NAME.json</c>).</param>
/// <param name="Keys">The role's key IDs and threshold.</param>
/// <param name="Terminating">Whether a search that reaches this role stops here, found or not.</param>
/// <param name="Paths">The path patterns, when delegated by path.</param>
/// <param name="PathHashPrefixes">The hash prefixes, when delegated by hash.</param>
public sealed record DelegatedRole(string Name, RoleKeys Keys, bool Terminating, IReadOnlyList<string>? Paths, IReadOnlyList<string>? PathHashPrefixes = null)
{
    /// <summary>Whether this role is trusted for <paramref name="targetPath"/>.</summary>
    /// <param name="targetPath">The target path.</param>
    /// <returns>Whether the delegation covers it.</returns>
    public bool Covers(string targetPath)
    {
        ArgumentNullException.ThrowIfNull(targetPath);
        if (Paths is not null)
        {
            foreach (var pattern in Paths)
            {
                if (PathPattern.Matches(targetPath, pattern))
                {
                    return true;
                }
            }

            return false;
        }

        if (PathHashPrefixes is not null)
        {
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(targetPath)));
            foreach (var prefix in PathHashPrefixes)
            {
                if (hash.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return true;
                }
            }
        }

        return false;
    }

    internal static DelegatedRole FromJson(JsonObject obj, string where)
    {
        var name = Fields.String(obj, "name", where);
        if (name.Length == 0 || RoleNames.IsTopLevel(name))
        {
            throw Fields.Malformed($"{where}.name \"{name}\" cannot be delegated to");
        }

        var keys = RoleKeys.FromJson(obj, where);
        var terminating = Fields.OptionalBoolean(obj, "terminating", where) ?? throw Fields.Malformed($"{where}.terminating must be true or false");
        var paths = obj.ContainsKey("paths") ? Fields.Strings(obj, "paths", where) : null;
        var prefixes = obj.ContainsKey("path_hash_prefixes") ? Fields.Strings(obj, "path_hash_prefixes", where) : null;
        if ((paths is null) == (prefixes is null))
        {
            throw Fields.Malformed($"{where} must have exactly one of paths and path_hash_prefixes");
        }

        return new DelegatedRole(name, keys, terminating, paths, prefixes);
    }

    internal JsonObject ToJson()
    {
        var obj = new JsonObject { ["name"] = Name, ["terminating"] = Terminating };
        Keys.WriteTo(obj);
        if (Paths is not null)
        {
            obj["paths"] = new JsonArray([.. Paths.Select(p => (JsonNode)p)]);
        }

        if (PathHashPrefixes is not null)
        {
            obj["path_hash_prefixes"] = new JsonArray([.. PathHashPrefixes.Select(p => (JsonNode)p)]);
        }

        return obj;
    }
}

/// <summary>
/// Matches target paths against delegation patterns as the specification's reference client
/// does: the path and the pattern split on <c>/</c> into as many segments, each matched as a
/// shell glob (<c>*</c>, <c>?</c>, <c>[abc]</c>, <c>[!abc]</c>), so <c>*</c> never crosses a <c>/</c>.
/// </summary>
public static class PathPattern
{
    /// <summary>Whether <paramref name="path"/> matches <paramref name="pattern"/>.</summary>
    /// <param name="path">A target path.</param>
    /// <param name="pattern">A delegation pattern.</param>
    /// <returns>Whether it matches.</returns>
    public static bool Matches(string path, string pattern)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(pattern);
        var pathSegments = path.Split('/');
        var patternSegments = pattern.Split('/');
        if (pathSegments.Length != patternSegments.Length)
        {
            return false;
        }

        for (var i = 0; i < pathSegments.Length; i++)
        {
            if (!Glob(pathSegments[i], patternSegments[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Glob(ReadOnlySpan<char> text, ReadOnlySpan<char> pattern)
    {
        // Iterative matching with one backtrack point for the last '*': linear in practice, never exponential.
        int t = 0, p = 0, starP = -1, starT = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                starP = p++;
                starT = t;
                continue;
            }

            if (p < pattern.Length && MatchOne(text[t], pattern, ref p))
            {
                t++;
                continue;
            }

            if (starP < 0)
            {
                return false;
            }

            p = starP + 1;
            t = ++starT;
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    // Matches one character against the pattern element at p ('?', a class, or a literal) and moves p past it.
    private static bool MatchOne(char c, ReadOnlySpan<char> pattern, ref int p)
    {
        switch (pattern[p])
        {
            case '?':
                p++;
                return true;
            case '[':
                var close = p + 1;
                if (close < pattern.Length && pattern[close] == '!')
                {
                    close++;
                }

                if (close < pattern.Length && pattern[close] == ']')
                {
                    close++;
                }

                while (close < pattern.Length && pattern[close] != ']')
                {
                    close++;
                }

                if (close >= pattern.Length)
                {
                    // No closing bracket: '[' is a literal, as in fnmatch.
                    if (c != '[')
                    {
                        return false;
                    }

                    p++;
                    return true;
                }

                var set = pattern[(p + 1)..close];
                var negate = set.Length > 0 && set[0] == '!';
                if (negate)
                {
                    set = set[1..];
                }

                var found = false;
                for (var i = 0; i < set.Length; i++)
                {
                    if (i + 2 < set.Length && set[i + 1] == '-')
                    {
                        found |= c >= set[i] && c <= set[i + 2];
                        i += 2;
                    }
                    else
                    {
                        found |= c == set[i];
                    }
                }

                if (found == negate)
                {
                    return false;
                }

                p = close + 1;
                return true;
            default:
                if (pattern[p] != c)
                {
                    return false;
                }

                p++;
                return true;
        }
    }
}
