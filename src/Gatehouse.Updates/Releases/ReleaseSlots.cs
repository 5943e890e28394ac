using System.Formats.Tar;
using System.IO.Compression;
using Gatehouse.Updates.Slots;

namespace Gatehouse.Updates.Releases;

/// <summary>
/// Agent builds on the endpoint, in two slots and a trial:
/// <code>
///   DIR/slots/       the verified release archives (SlotStore: committed, previous, staged, trial, quarantined)
///   DIR/versions/V/  each archive unpacked, with its gatehouse-agent executable
/// </code>
/// The launcher (<c>gatehouse-agent launch</c>, what systemd starts) asks <see cref="ChooseForStart"/>
/// which build to run: the trial while it has starts left (each start counted before the build
/// runs, so a build that crashes at once still uses up its starts), else the committed build, else
/// the previous one, each only while its archive verifies and its executable is there. After three starts the trial is quarantined and never tried again: a
/// crash-looping build goes back to the old one by itself.
/// </summary>
public sealed class ReleaseSlots
{
    /// <summary>The executable every release archive holds at its top level.</summary>
    public const string ExecutableName = "gatehouse-agent";

    private readonly SlotStore slots;

    /// <summary>Opens the install directory.</summary>
    /// <param name="directory">The install directory.</param>
    /// <param name="time">The clock.</param>
    public ReleaseSlots(string directory, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = directory;
        slots = new SlotStore(Path.Combine(directory, "slots"), time);
    }

    /// <summary>The install directory.</summary>
    public string Directory { get; }

    /// <summary>The slots' state.</summary>
    public SlotState State => slots.State;

    /// <summary>
    /// Installs a verified release archive (<c>.tar.gz</c> with <c>gatehouse-agent</c> at its top):
    /// stores it, unpacks it to a directory of its own, and puts it on trial for the next start.
    /// </summary>
    /// <param name="version">The version.</param>
    /// <param name="archive">The archive, verified against signed metadata.</param>
    /// <param name="sha256">Its SHA-256 from signed metadata.</param>
    /// <exception cref="UpdateException">Quarantined, damaged, without an executable, or the disk is full.</exception>
    public void Install(string version, byte[] archive, string sha256)
    {
        slots.Stage(version, archive, sha256);
        var target = VersionDirectory(version);
        var unpacking = target + ".unpacking";
        try
        {
            if (System.IO.Directory.Exists(unpacking))
            {
                System.IO.Directory.Delete(unpacking, recursive: true);
            }

            System.IO.Directory.CreateDirectory(unpacking);
            using (var gzip = new GZipStream(new MemoryStream(archive), CompressionMode.Decompress))
            {
                TarFile.ExtractToDirectory(gzip, unpacking, overwriteFiles: false);
            }

            if (!File.Exists(Path.Combine(unpacking, ExecutableName)))
            {
                throw new UpdateException($"release {version} has no {ExecutableName} at its top level");
            }

            if (System.IO.Directory.Exists(target))
            {
                System.IO.Directory.Delete(target, recursive: true);
            }

            // The unpacked tree appears under its final name whole, or not at all.
            System.IO.Directory.Move(unpacking, target);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            TryDelete(unpacking);
            throw new UpdateException($"release {version} could not be unpacked: {e.Message}", isTransient: e is IOException, e);
        }

        slots.BeginTrial();
    }

    /// <summary>Chooses the build to start now (<see cref="SlotStore.Choose{T}"/>), counting the start of a trial build.</summary>
    /// <returns>The executable to run (null when no build is installed), and what was passed over.</returns>
    public SlotChoice<string> ChooseForStart() => slots.Choose<string>((entry, _) =>
    {
        var executable = Path.Combine(VersionDirectory(entry.Version), ExecutableName);
        return File.Exists(executable) ? (executable, null) : (null, $"has no {ExecutableName} in {Path.GetDirectoryName(executable)}");
    });

    /// <summary>Commits the trial build after its health window.</summary>
    /// <param name="version">The version that ran healthy; nothing happens if it is no longer the trial.</param>
    public void CommitIfTrial(string version)
    {
        if (slots.State.Trial?.Entry.Version == version)
        {
            slots.Commit();
        }
    }

    /// <summary>Gives back the start of a trial build that stopped cleanly when asked to (<see cref="SlotStore.EndTrialRunCleanly"/>).</summary>
    /// <param name="version">The version that ran on trial.</param>
    public void EndTrialRunCleanly(string version) => slots.EndTrialRunCleanly(version);

    private string VersionDirectory(string version) =>
        Path.Combine(Directory, "versions", string.Concat(version.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_')));

    private static void TryDelete(string directory)
    {
        try
        {
            if (System.IO.Directory.Exists(directory))
            {
                System.IO.Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // Removed at the next install.
        }
    }
}
