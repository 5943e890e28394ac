using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Edge.Flows;

/// <summary>
/// Which users went past a caution page for which host, for an hour; and the signed tokens that the
/// page's "continue" link carries, so that only the user who saw the page can accept it.
/// </summary>
public sealed class CautionAcceptances
{
    /// <summary>How long an acceptance lasts.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    private const int MaxEntries = 100_000;
    private readonly ConcurrentDictionary<(string User, string Host), DateTimeOffset> _accepted = new();
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly TimeProvider _time;

    /// <summary>Creates an empty set with a fresh signing key.</summary>
    /// <param name="time">The clock.</param>
    public CautionAcceptances(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>Whether <paramref name="user"/> accepted the caution for <paramref name="host"/> within the last hour.</summary>
    public bool IsAccepted(string user, string host) =>
        _accepted.TryGetValue((user, host.ToLowerInvariant()), out var until) && until > _time.GetUtcNow();

    /// <summary>A token for the continue link of <paramref name="user"/>'s caution page for <paramref name="url"/>, valid 10 minutes.</summary>
    public string Issue(string user, string url)
    {
        var expires = _time.GetUtcNow().AddMinutes(10).ToUnixTimeSeconds();
        return $"{expires}.{Sign(user, url, expires)}";
    }

    /// <summary>Checks a continue token and, when it is <paramref name="user"/>'s for <paramref name="url"/> and unexpired, records the acceptance for <paramref name="host"/>.</summary>
    public bool TryAccept(string user, string url, string host, string token)
    {
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || !long.TryParse(token.AsSpan(0, dot), out var expires) || expires < _time.GetUtcNow().ToUnixTimeSeconds())
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(user, url, expires));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(token[(dot + 1)..])))
        {
            return false;
        }

        if (_accepted.Count >= MaxEntries)
        {
            _accepted.Clear();
        }

        _accepted[(user, host.ToLowerInvariant())] = _time.GetUtcNow() + Lifetime;
        return true;
    }

    private string Sign(string user, string url, long expires) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"{user}\n{url}\n{expires}")))[..32];
}
