using Gatehouse.Trust;
using Gatehouse.Tuf.Metadata;

namespace Gatehouse.Tuf.Client;

/// <summary>
/// The metadata a client trusts, on disk: <c>root.json</c>, <c>timestamp.json</c>,
/// <c>snapshot.json</c>, <c>targets.json</c> and delegated roles by name (escaped, so a role
/// name can never leave the directory). Each file is replaced atomically, so a crash leaves the
/// old file or the new one, never half of either.
/// </summary>
public sealed class MetadataStore
{
    /// <summary>Creates the store.</summary>
    /// <param name="directory">The directory.</param>
    public MetadataStore(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = directory;
    }

    /// <summary>The directory.</summary>
    public string Directory { get; }

    /// <summary>The file that holds <paramref name="role"/>'s metadata.</summary>
    /// <param name="role">A role name.</param>
    /// <returns>The path.</returns>
    public string PathOf(string role) => Path.Combine(Directory, RoleNames.FileName(role));

    /// <summary>Reads <paramref name="role"/>'s stored metadata.</summary>
    /// <param name="role">A role name.</param>
    /// <returns>The bytes, or <see langword="null"/> when none is stored.</returns>
    public byte[]? Read(string role)
    {
        try
        {
            return File.ReadAllBytes(PathOf(role));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Stores <paramref name="role"/>'s metadata, replacing what was there atomically.</summary>
    /// <param name="role">A role name.</param>
    /// <param name="bytes">The verified file, exactly as received.</param>
    public void Write(string role, byte[] bytes) => OwnerOnlyFile.WriteAtomically(PathOf(role), bytes, overwrite: true);

    /// <summary>Forgets <paramref name="role"/>'s metadata.</summary>
    /// <param name="role">A role name.</param>
    public void Delete(string role) => File.Delete(PathOf(role));
}
