namespace Gatehouse.Trust.Bundles;

/// <summary>
/// Keeps the last verified bundle of each tenant and consumer on disk, so that a consumer keeps
/// enforcing it while the portal is unreachable. The stored copy is re-verified when loaded.
/// </summary>
/// <param name="directory">Where the bundles are kept; made readable by its owner only when created here.</param>
public sealed class LastKnownGoodStore(string directory)
{
    private readonly string _directory = Path.GetFullPath(directory);

    /// <summary>Runs between writing the temporary file and renaming it into place; tests use it to simulate a crash.</summary>
    internal Action<string>? BeforeRename { get; set; }

    /// <summary>Stores <paramref name="bundle"/>'s document, replacing the previous one atomically.</summary>
    /// <param name="bundle">A bundle that passed verification.</param>
    /// <exception cref="ArgumentException">The tenant or consumer is not a safe file-name part.</exception>
    /// <exception cref="IOException">The file cannot be written; the previous copy is then intact.</exception>
    public void Save(VerifiedBundle bundle)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        var path = PathFor(bundle.Header.Tenant, bundle.Header.Consumer);
        OwnerOnlyFile.WriteAtomically(path, bundle.Document, overwrite: true, BeforeRename);
    }

    /// <summary>Reads the stored document of a tenant and consumer.</summary>
    /// <param name="tenant">The tenant id.</param>
    /// <param name="consumer">The consumer.</param>
    /// <returns>The document bytes, or <see langword="null"/> when none is stored.</returns>
    /// <exception cref="ArgumentException">The tenant or consumer is not a safe file-name part.</exception>
    public byte[]? Load(string tenant, string consumer)
    {
        var path = PathFor(tenant, consumer);
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    private string PathFor(string tenant, string consumer)
    {
        RequireSafeName(tenant, nameof(tenant));
        RequireSafeName(consumer, nameof(consumer));
        return Path.Combine(_directory, $"{tenant}.{consumer}.bundle.json");
    }

    // Ids become file names: letters, digits, '-' and '_' only, so no id can climb out of the directory.
    private static void RequireSafeName(string value, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, name);
        if (value.Length > 128)
        {
            throw new ArgumentException("An id used in a file name has at most 128 characters.", name);
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '-' and not '_')
            {
                throw new ArgumentException($"The id \"{value}\" has a character other than letters, digits, '-' and '_'.", name);
            }
        }
    }
}
