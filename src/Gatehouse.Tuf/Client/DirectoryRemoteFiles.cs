namespace Gatehouse.Tuf.Client;

/// <summary>
/// Fetches repository files from a directory: a mirror on a mounted share or removable disk, for
/// machines that cannot reach the portal. The same limits apply as over HTTP; the files are no
/// more trusted for being local.
/// </summary>
public sealed class DirectoryRemoteFiles : IRemoteFiles
{
    private readonly string root;

    /// <summary>Creates the fetcher.</summary>
    /// <param name="root">The directory that URLs of the form <c>file:///ROOT/...</c> point into.</param>
    public DirectoryRemoteFiles(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        this.root = Path.GetFullPath(root);
    }

    /// <summary>
    /// A client of a repository laid out as <c>TufRepository</c> writes it (<c>DIR/metadata/</c>, <c>DIR/targets/</c>),
    /// keeping its trusted metadata in <c>CLIENT/metadata</c> (which must hold <c>root.json</c>) and downloads in
    /// <c>CLIENT/targets</c>.
    /// </summary>
    /// <param name="repository">The repository's directory.</param>
    /// <param name="clientDirectory">The client's own directory.</param>
    /// <returns>The client.</returns>
    public static TufUpdater Updater(string repository, string clientDirectory) => new(
        new UpdaterOptions
        {
            MetadataDirectory = Path.Combine(clientDirectory, "metadata"),
            MetadataBaseUrl = new Uri(Path.Combine(Path.GetFullPath(repository), "metadata") + "/"),
            TargetBaseUrl = new Uri(Path.Combine(Path.GetFullPath(repository), "targets") + "/"),
            TargetDirectory = Path.Combine(clientDirectory, "targets"),
        },
        new DirectoryRemoteFiles(repository));

    /// <inheritdoc/>
    public async Task<byte[]> GetAsync(Uri uri, long maxLength, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var path = Path.GetFullPath(uri.LocalPath);
        if (!uri.IsFile || !path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new TufException(TufFailure.NotFound, $"{uri} is not under {root}");
        }

        try
        {
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true);
            if (file.Length > maxLength)
            {
                throw new TufException(TufFailure.TooLarge, $"{path} is longer than the {maxLength} bytes it may be");
            }

            var bytes = new byte[file.Length];
            await file.ReadExactlyAsync(bytes, ct).ConfigureAwait(false);
            return bytes;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TufException(TufFailure.NotFound, $"{path} is not there");
        }
        catch (IOException e)
        {
            throw new TufException(TufFailure.Unreachable, $"{path}: {e.Message}", e);
        }
    }
}
