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

    private bool TryVerify(string headerValue, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ProxyUser? user)
    {
        user = null;
        var value = headerValue.AsSpan().Trim();
        if (!value.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var encoded = value[6..].Trim();
        if (encoded.Length > 1024)
        {
            return false;
        }

        Span<byte> decoded = stackalloc byte[768];
        if (!Convert.TryFromBase64Chars(encoded, decoded, out var length))
        {
            return false;
        }

        var pair = decoded[..length];
        var colon = pair.IndexOf((byte)':');
        if (colon < 0)
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
