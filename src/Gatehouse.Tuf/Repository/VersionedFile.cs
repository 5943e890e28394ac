using Gatehouse.Tuf.Json;
using Gatehouse.Tuf.Metadata;

namespace Gatehouse.Tuf.Repository;

/// <summary>
/// A versioned metadata file of a repository, <c>metadata/V.ROLE.json</c>, held to its name. Clients ask for version V
/// of ROLE by that name and refuse a file that holds another version (specification 5.3.5, 5.5.4, 5.6.4) or another
/// role's metadata, so the repository never counts one as version V: a stray <c>9.targets.json</c> holding version 1
/// would otherwise be the latest targets, built on by the next version and listed by the next snapshot.
/// </summary>
internal static class VersionedFile
{
    /// <summary>The folder of a repository that holds metadata.</summary>
    public const string MetadataFolder = "metadata";

    /// <summary>Where version <paramref name="version"/> of <paramref name="role"/> is, relative to the repository.</summary>
    /// <param name="role">The role.</param>
    /// <param name="version">The version, or null for the unversioned file.</param>
    /// <returns>The path, for messages.</returns>
    public static string RelativePath(string role, long? version) => Path.Combine(MetadataFolder, RoleNames.FileName(role, version));

    /// <summary>Reads the file's bytes as metadata and checks that it holds what its name says; signatures are not checked.</summary>
    /// <param name="role">The role its name says.</param>
    /// <param name="version">The version its name says.</param>
    /// <param name="bytes">The file's bytes.</param>
    /// <returns>The metadata.</returns>
    /// <exception cref="TufException">
    /// It holds another role's metadata (<see cref="TufFailure.Malformed"/>) or another version (<see cref="TufFailure.Rollback"/>).
    /// </exception>
    public static SignedMetadata Parse(string role, long version, ReadOnlySpan<byte> bytes)
    {
        var signed = SignedMetadata.Parse(bytes);
        // Delegated roles hold targets metadata; only the name tells them apart.
        var type = RoleNames.IsTopLevel(role) ? role : RoleNames.Targets;
        if (signed.Type != type)
        {
            throw new TufException(TufFailure.Malformed, $"{RelativePath(role, version)} holds {signed.Type} metadata, not the {type} metadata its name says: {Refused(role, version)}");
        }

        var held = Fields.Integer(signed.Signed, "version", type);
        if (held != version)
        {
            throw new TufException(TufFailure.Rollback, $"{RelativePath(role, version)} holds version {held}, not the version {version} its name says: {Refused(role, version)}");
        }

        return signed;
    }

    private static string Refused(string role, long version) => $"clients that fetch {role} version {version} refuse it; move it out of the repository";
}
