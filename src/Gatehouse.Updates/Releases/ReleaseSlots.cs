using System.Formats.Tar;
using System.IO.Compression;
using Gatehouse.Updates.Slots;

namespace Gatehouse.Updates.Releases;

/// <summary>Which agent build to start, and whether it is on trial.</summary>
/// <param name="Version">The version.</param>
/// <param name="Executable">Its <c>gatehouse-agent</c>.</param>
/// <param name="OnTrial">Whether it is the version on trial (its start was counted).</param>
/// <param name="Refused">What was passed over on the way (a trial out of starts, a damaged build).</param>
public sealed record LaunchChoice(string Version, string Executable, bool OnTrial, IReadOnlyList<string> Refused);

/// <summary>
/// Agent builds on the endpoint, in two slots and a trial:
/// <code>
///   DIR/slots/       the verified release archives (SlotStore: committed, previous, staged, trial, quarantined)
///   DIR/versions/V/  each archive unpacked, with its gatehouse-agent executable
/// </code>
/// The launcher (<c>gatehouse-agent launch</c>, what systemd starts) asks <see cref="ChooseForStart"/>
/// which build to run: the trial while it has starts left (each start counted before the build
/// runs, so a build that crashes at once still uses up its starts), else the committed build, else
/// the previous one. After three starts the trial is quarantined and never tried again: a
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

    /// <summary>Chooses the build to start now, counting the start of a trial build.</summary>
    /// <returns>The choice, or <see langword="null"/> when no build is installed.</returns>
    public LaunchChoice? ChooseForStart()
    {
        var refused = new List<string>();
        var pending = slots.State.Trial;
        if (slots.StartTrial() is { } trial)
        {
            if (Usable(trial.Entry) is { } executable)
            {
                return new LaunchChoice(trial.Entry.Version, executable, OnTrial: true, refused);
            }

            refused.Add($"trial release {trial.Entry.Version} is missing or damaged");
            slots.Revert("missing or damaged");
        }
        else if (pending is not null)
        {
            refused.Add($"trial release {pending.Entry.Version} quarantined: {slots.State.Quarantined.GetValueOrDefault(pending.Entry.Version)}");
        }

        foreach (var entry in new[] { slots.State.Committed, slots.State.Previous })
        {
            if (entry is not null && Usable(entry) is { } executable)
            {
                return new LaunchChoice(entry.Version, executable, OnTrial: false, refused);
            }

            if (entry is not null)
            {
                refused.Add($"release {entry.Version} is missing or damaged");
            }
        }

        return null;
    }

    /// <summary>Commits the trial build after its health window.</summary>
    /// <param name="version">The version that ran healthy; nothing happens if it is no longer the trial.</param>
    public void CommitIfTrial(string version)
    {
        if (slots.State.Trial?.Entry.Version == version)
        {
            slots.Commit();
        }
    }

    private string VersionDirectory(string version) =>
        Path.Combine(Directory, "versions", string.Concat(version.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_')));

    // A build is usable when its archive still verifies and its executable is there.
    private string? Usable(SlotEntry entry)
    {
        var executable = Path.Combine(VersionDirectory(entry.Version), ExecutableName);
        return slots.ReadVerified(entry) is not null && File.Exists(executable) ? executable : null;
    }

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
