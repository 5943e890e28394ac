using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Trust.Secrets;

/// <summary>Password hashes (slow, salted) and token hashes (fast, for high-entropy tokens).</summary>
public static class PasswordHasher
{
    /// <summary>The PBKDF2 iteration count new hashes use (OWASP's figure for PBKDF2-HMAC-SHA256).</summary>
    public const int Iterations = 600_000;

    private const string Scheme = "pbkdf2-sha256";
    private const int SaltSize = 16;
    private const int HashSize = 32;

    // Stored hashes decide the work of Verify; cap it so a corrupt or hostile entry cannot stall the server.
    private const int MaxIterations = 10_000_000;

    /// <summary>Hashes a password as <c>pbkdf2-sha256$600000$&lt;b64salt&gt;$&lt;b64hash&gt;</c>.</summary>
    /// <param name="password">The password.</param>
    /// <returns>The encoded hash.</returns>
    public static string Hash(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        var salt = RandomNumberGenerator.GetBytes(SaltSize);
        var hash = Rfc2898DeriveBytes.Pbkdf2(password, salt, Iterations, HashAlgorithmName.SHA256, HashSize);
        return string.Create(CultureInfo.InvariantCulture, $"{Scheme}${Iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}");
    }

    /// <summary>Checks a password against an encoded hash in constant time.</summary>
    /// <param name="password">The password to check.</param>
    /// <param name="encoded">A hash made by <see cref="Hash"/>, possibly with another iteration count.</param>
    /// <returns><see langword="true"/> when the password matches; <see langword="false"/> when not or when the hash is malformed.</returns>
    public static bool Verify(string password, string encoded)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (encoded is null)
        {
            return false;
        }

        var parts = encoded.Split('$');
        if (parts.Length != 4 || parts[0] != Scheme
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations)
            || iterations is < 1 or > MaxIterations)
        {
            return false;
        }

        byte[] salt, expected;
        try
        {
            salt = Convert.FromBase64String(parts[2]);
            expected = Convert.FromBase64String(parts[3]);
        }
        catch (FormatException)
        {
            return false;
        }

        if (salt.Length == 0 || expected.Length is < 16 or > 64)
        {
            return false;
        }

        var actual = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>
    /// Hashes a high-entropy token (API token, enrollment token) for storage: lowercase hex SHA-256.
    /// A slow KDF adds nothing when the token itself cannot be guessed.
    /// </summary>
    /// <param name="token">The token.</param>
    /// <returns>64 lowercase hex digits.</returns>
    public static string HashToken(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
    }

    /// <summary>Makes a new token: <paramref name="prefix"/>, <c>_</c>, then 32 random bytes in unpadded base64url.</summary>
    /// <param name="prefix">Says what the token is for, such as <c>ght</c>; helps secret scanners and humans.</param>
    /// <returns>The token.</returns>
    public static string NewToken(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        return prefix + "_" + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
    }
}
