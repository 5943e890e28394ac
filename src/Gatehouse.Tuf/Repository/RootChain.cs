using Gatehouse.Tuf.Metadata;

namespace Gatehouse.Tuf.Repository;

/// <summary>
/// Root versions 1 to N of a repository, each checked as a client checks it (specification 5.3.4): signed by a threshold
/// of its own root keys and of its predecessor's, and holding the version its file name says. It keeps the exact bytes
/// each version was checked from, so that checking files again costs a comparison of bytes, not signatures: a version
/// is checked anew when its bytes, or those of any version before it, differ from what was checked.
/// </summary>
internal sealed class RootChain
{
    private readonly byte[][] files;
    private readonly RootMetadata[] roots;

    private RootChain(byte[][] files, RootMetadata[] roots)
    {
        this.files = files;
        this.roots = roots;
    }

    /// <summary>No root versions.</summary>
    public static RootChain Empty { get; } = new([], []);

    /// <summary>The latest root, or <see langword="null"/> when there is none.</summary>
    public RootMetadata? Latest => roots.Length == 0 ? null : roots[^1];

    /// <summary>
    /// The chain of <paramref name="rootFiles"/> (version 1 first): this one when the bytes are the same, else one
    /// that reuses the versions whose bytes and predecessors' bytes are the same and checks the rest.
    /// </summary>
    /// <param name="rootFiles">The bytes of every root file, version 1 first.</param>
    /// <returns>The checked chain.</returns>
    /// <exception cref="TufException">A version is not signed as it must be, or does not hold what its file name says.</exception>
    public RootChain Check(IReadOnlyList<byte[]> rootFiles)
    {
        ArgumentNullException.ThrowIfNull(rootFiles);
        var same = 0;
        while (same < files.Length && same < rootFiles.Count && files[same].AsSpan().SequenceEqual(rootFiles[same]))
        {
            same++;
        }

        if (same == files.Length && same == rootFiles.Count)
        {
            return this;
        }

        var checkedRoots = new RootMetadata[rootFiles.Count];
        Array.Copy(roots, checkedRoots, same);
        for (var index = same; index < rootFiles.Count; index++)
        {
            checkedRoots[index] = CheckVersion(index + 1, rootFiles[index], index == 0 ? null : checkedRoots[index - 1]);
        }

        return new RootChain([.. rootFiles], checkedRoots);
    }

    private static RootMetadata CheckVersion(long version, byte[] bytes, RootMetadata? previous)
    {
        var signed = VersionedFile.Parse(RoleNames.Root, version, bytes);
        var root = RootMetadata.FromJson(signed.Signed);
        signed.VerifyThreshold($"root version {version} (by its own keys)", root.Keys, root.Role(RoleNames.Root));
        if (previous is not null)
        {
            signed.VerifyThreshold($"root version {version} (by version {version - 1}'s keys)", previous.Keys, previous.Role(RoleNames.Root));
        }

        return root;
    }
}
