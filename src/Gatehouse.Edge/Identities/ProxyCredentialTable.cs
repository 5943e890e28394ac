using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Edge.Identities;

/// <summary>A user the forward proxy authenticated.</summary>
/// <param name="Id">The user's id.</param>
/// <param name="Email">The user's email (the proxy user name).</param>
public sealed record ProxyUser(string Id, string Email);

/// <summary>
/// The tenant's proxy credentials from the bundle (<c>proxyCredentials: [{userId, username, sha256}]</c>):
/// checks a <c>Proxy-Authorization</c> value. Passwords are 256-bit random secrets made by the portal, so
/// one SHA-256 is enough; a credential that verified once is remembered by its header value until the
/// table is replaced, so a keep-alive client costs a hash only on its first request.
/// </summary>
public sealed class ProxyCredentialTable
{
    private const int MaxRemembered = 65_536;
    private const int MaxDecodedBytes = 768;
    private readonly Dictionary<string, ProxyUser> _bySha256;
    private readonly ConcurrentDictionary<string, ProxyUser> _verified = new(StringComparer.Ordinal);

    /// <summary>Creates a table of <paramref name="credentials"/> (SHA-256 of the password in hex → user).</summary>
    /// <param name="credentials">The credentials.</param>
    public ProxyCredentialTable(IReadOnlyDictionary<string, ProxyUser> credentials)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        _bySha256 = new Dictionary<string, ProxyUser>(credentials, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>A table with no credentials: every request is refused.</summary>
    public static ProxyCredentialTable Empty { get; } = new(new Dictionary<string, ProxyUser>());

    /// <summary>How many credentials the table holds.</summary>
    public int Count => _bySha256.Count;

    /// <summary>Checks a <c>Proxy-Authorization</c> header value (<c>Basic base64(user:password)</c>).</summary>
    /// <param name="headerValue">The header's value, or null when the request has none.</param>
    /// <param name="user">The user, when the credentials are right.</param>
    /// <returns>True for a known password whose user name is its user's email (case ignored).</returns>
    public bool TryAuthenticate(string? headerValue, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ProxyUser? user)
    {
        user = null;
        if (string.IsNullOrEmpty(headerValue) || _bySha256.Count == 0)
        {
            return false;
        }

        if (_verified.TryGetValue(headerValue, out user))
        {
            return true;
        }

        if (!TryVerify(headerValue, out user))
        {
            return false;
        }

        if (_verified.Count >= MaxRemembered)
        {
            _verified.Clear();
        }

        _verified[headerValue] = user;
        return true;
    }

    /// <summary>
    /// Whether <paramref name="headerValue"/> verified before (no hash is computed): the forward proxy's path for a
    /// client address with no recent failures, which the guess limit lets through without a look at its counts.
    /// </summary>
    /// <param name="headerValue">The header's value.</param>
    /// <param name="user">The user, when it verified before.</param>
    public bool TryRemembered(string headerValue, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ProxyUser? user) =>
        _verified.TryGetValue(headerValue, out user);

    /// <summary>The user name a <c>Basic</c> header value gives (lower-cased), or the empty string when it gives none.</summary>
    /// <param name="headerValue">The header's value.</param>
    public static string UserNameOf(string headerValue)
    {
        Span<byte> decoded = stackalloc byte[MaxDecodedBytes];
        if (!TryDecode(headerValue, decoded, out var pair, out var colon))
        {
            return string.Empty;
        }

        try
        {
            return Encoding.UTF8.GetString(pair[..colon]).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return string.Empty;
        }
    }

    /// <summary>Decodes <c>Basic base64(user:password)</c> into <paramref name="decoded"/>: <paramref name="pair"/> is <c>user:password</c>, <paramref name="colon"/> where the user name ends.</summary>
    private static bool TryDecode(string headerValue, Span<byte> decoded, out Span<byte> pair, out int colon)
    {
        pair = default;
        colon = -1;
        var value = headerValue.AsSpan().Trim();
        if (!value.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var encoded = value[6..].Trim();
        if (encoded.Length > 1024 || !Convert.TryFromBase64Chars(encoded, decoded, out var length))
        {
            return false;
        }

        pair = decoded[..length];
        colon = pair.IndexOf((byte)':');
        return colon >= 0;
    }

    private bool TryVerify(string headerValue, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ProxyUser? user)
    {
        user = null;
        Span<byte> decoded = stackalloc byte[MaxDecodedBytes];
        if (!TryDecode(headerValue, decoded, out var pair, out var colon))
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(pair[(colon + 1)..], hash);
        if (!_bySha256.TryGetValue(Convert.ToHexStringLower(hash), out var candidate))
        {
            return false;
        }

        string username;
        try
        {
            username = Encoding.UTF8.GetString(pair[..colon]);
        }
        catch (ArgumentException)
        {
            return false;
        }

        if (!string.Equals(username, candidate.Email, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        user = candidate;
        return true;
    }
}
