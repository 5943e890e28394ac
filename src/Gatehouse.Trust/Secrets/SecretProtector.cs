using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Trust.Secrets;

/// <summary>
/// Encrypts secrets at rest with AES-256-GCM under a master key. Output is
/// <c>version (1) || nonce (12) || ciphertext || tag (16)</c>; the purpose is bound as associated data,
/// so a secret protected for one purpose cannot be passed off as another.
/// </summary>
/// <param name="masterKey">The 32-byte master key; it is copied.</param>
public sealed class SecretProtector(byte[] masterKey)
{
    private const byte Version = 1;
    private const int KeySize = 32;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int Overhead = 1 + NonceSize + TagSize;

    private readonly byte[] _key = masterKey is { Length: KeySize }
        ? (byte[])masterKey.Clone()
        : throw new ArgumentException($"The master key is {KeySize} bytes.", nameof(masterKey));

    /// <summary>Encrypts <paramref name="plaintext"/> for <paramref name="purpose"/>.</summary>
    /// <param name="plaintext">The secret.</param>
    /// <param name="purpose">What the secret is for, such as <c>"tenant-ca-key"</c>; needed again to decrypt.</param>
    /// <returns>The protected bytes.</returns>
    public byte[] Protect(ReadOnlySpan<byte> plaintext, string purpose)
    {
        ArgumentNullException.ThrowIfNull(purpose);
        var output = new byte[Overhead + plaintext.Length];
        output[0] = Version;
        var nonce = output.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(1 + NonceSize, plaintext.Length), output.AsSpan(output.Length - TagSize), AssociatedData(purpose));
        return output;
    }

    /// <summary>Decrypts bytes made by <see cref="Protect"/>.</summary>
    /// <param name="protectedData">The protected bytes.</param>
    /// <param name="purpose">The purpose they were protected for.</param>
    /// <returns>The secret.</returns>
    /// <exception cref="TrustException">The bytes were changed, or the purpose or key is not the one they were protected with.</exception>
    public byte[] Unprotect(ReadOnlySpan<byte> protectedData, string purpose)
    {
        ArgumentNullException.ThrowIfNull(purpose);
        if (protectedData.Length < Overhead || protectedData[0] != Version)
        {
            throw new TrustException("The protected secret is too short or of an unknown format version.");
        }

        var plaintext = new byte[protectedData.Length - Overhead];
        using var aes = new AesGcm(_key, TagSize);
        try
        {
            aes.Decrypt(
                protectedData.Slice(1, NonceSize),
                protectedData.Slice(1 + NonceSize, plaintext.Length),
                protectedData[^TagSize..],
                plaintext,
                AssociatedData(purpose));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new TrustException("The protected secret was changed, or is for another purpose or master key.");
        }

        return plaintext;
    }

    /// <summary>
    /// Reads the master key at <paramref name="path"/>, or creates a random one there (mode 0600, its
    /// directory 0700 when created) if there is none.
    /// </summary>
    /// <param name="path">The key file.</param>
    /// <returns>The 32-byte key.</returns>
    /// <exception cref="TrustException">The file exists but is not 32 bytes long.</exception>
    public static byte[] LoadOrCreateMasterKey(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            var key = RandomNumberGenerator.GetBytes(KeySize);
            try
            {
                OwnerOnlyFile.WriteAtomically(path, key, overwrite: false);
                return key;
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process made the key first; use theirs.
            }
        }

        return LoadMasterKey(path);
    }

    /// <summary>Reads the master key at <paramref name="path"/>; never creates one.</summary>
    /// <param name="path">The key file.</param>
    /// <returns>The 32-byte key.</returns>
    /// <exception cref="TrustException">There is no file, or it is not 32 bytes long.</exception>
    public static byte[] LoadMasterKey(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] existing;
        try
        {
            existing = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TrustException($"There is no master key file {path}.");
        }

        if (existing.Length != KeySize)
        {
            throw new TrustException($"The master key file {path} is {existing.Length} bytes long, not {KeySize}; refusing to use it.");
        }

        return existing;
    }

    private static byte[] AssociatedData(string purpose) => [Version, .. Encoding.UTF8.GetBytes(purpose)];
}
