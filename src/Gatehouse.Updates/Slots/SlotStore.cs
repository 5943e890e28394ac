using System.Security.Cryptography;
using System.Text.Json;
using Gatehouse.Trust;

namespace Gatehouse.Updates.Slots;

/// <summary>
/// The slots of one updatable thing (the agent, or one content channel) in a directory of its own:
/// <code>
///   state.json            which file is committed, previous, staged, on trial, quarantined
///   state.previous.json   the state before the last change (read when state.json is damaged)
///   VERSION-HASH.bin      the artifacts, each written once, atomically, and checked by hash on every read
/// </code>
/// Every change writes the new state atomically after the files it names are complete, so a
/// kill at any point leaves a state whose files exist. A write that fails (a full disk) changes
/// nothing. A file whose hash no longer matches is never returned.
/// </summary>
public sealed class SlotStore
{
    /// <summary>How many starts a trial version gets before it is quarantined.</summary>
    public const int DefaultMaxStarts = 3;

    private readonly TimeProvider time;

    /// <summary>Opens (or creates) the slots in <paramref name="directory"/>.</summary>
    /// <param name="directory">The directory.</param>
    /// <param name="time">The clock.</param>
    /// <param name="maxStarts">How many starts a trial gets.</param>
    public SlotStore(string directory, TimeProvider? time = null, int maxStarts = DefaultMaxStarts)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = directory;
        this.time = time ?? TimeProvider.System;
        MaxStarts = maxStarts;
        State = Load();
        RemoveTornWrites();
    }

    /// <summary>The directory.</summary>
    public string Directory { get; }

    /// <summary>How many starts a trial gets.</summary>
    public int MaxStarts { get; }

    /// <summary>The current state.</summary>
    public SlotState State { get; private set; }

    /// <summary>
    /// Stores a verified download as the staged version. The file is written to a temporary name,
    /// flushed, checked against <paramref name="sha256"/> as read back, then renamed; only then
    /// does the state name it.
    /// </summary>
    /// <param name="version">The version.</param>
    /// <param name="bytes">The artifact, already verified against signed metadata.</param>
    /// <param name="sha256">Its SHA-256, hex, from signed metadata.</param>
    /// <exception cref="UpdateException">The version is quarantined, or the file could not be written (a full disk: transient).</exception>
    public void Stage(string version, byte[] bytes, string sha256) => Stage(version, bytes, sha256, beforeRename: null);

    /// <summary>As <see cref="Stage(string, byte[], string)"/>, with a hook that runs when the artifact is written but not yet renamed (tests kill the process there).</summary>
    internal void Stage(string version, byte[] bytes, string sha256, Action<string>? beforeRename)
    {
        ArgumentException.ThrowIfNullOrEmpty(version);
        ArgumentNullException.ThrowIfNull(bytes);
        if (State.Quarantined.TryGetValue(version, out var why))
        {
            throw new UpdateException($"version {version} is quarantined ({why}) and is never tried again");
        }

        if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(bytes)), sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new UpdateException($"version {version} does not match its SHA-256; not staged");
        }

        var entry = new SlotEntry(version, sha256.ToLowerInvariant(), $"{Sanitize(version)}-{sha256[..16].ToLowerInvariant()}.bin");
        var path = Path.Combine(Directory, entry.File);
        try
        {
            if (!File.Exists(path) || !Matches(path, entry.Sha256))
            {
                OwnerOnlyFile.WriteAtomically(path, bytes, overwrite: true, beforeRename);
            }

            if (!Matches(path, entry.Sha256))
            {
                throw new UpdateException($"version {version} read back differently from what was written; not staged", isTransient: true);
            }

            Save(State with { Staged = entry });
        }
        catch (IOException e)
        {
            throw new UpdateException($"version {version} could not be staged: {e.Message}", isTransient: true, e);
        }
    }

    /// <summary>Puts the staged version on trial: the next start loads it.</summary>
    /// <exception cref="UpdateException">Nothing is staged.</exception>
    public void BeginTrial()
    {
        var staged = State.Staged ?? throw new UpdateException("nothing is staged");
        Save(State with { Staged = null, Trial = new TrialEntry(staged, 0, time.GetUtcNow()) });
    }

    /// <summary>
    /// Counts one start of the trial version, before it is loaded: a load that crashes the
    /// process still counts, and after <see cref="MaxStarts"/> the trial is over.
    /// </summary>
    /// <returns>The trial, or <see langword="null"/> when there is none or it has used its starts (it is then quarantined).</returns>
    public TrialEntry? StartTrial()
    {
        if (State.Trial is not { } trial)
        {
            return null;
        }

        if (trial.Starts >= MaxStarts)
        {
            Revert($"{trial.Starts} trial runs ended in a crash or a kill"); // a load that fails ends its run so too
            return null;
        }

        var counted = trial with { Starts = trial.Starts + 1 };
        Save(State with { Trial = counted });
        return counted;
    }

    /// <summary>
    /// Gives back the start of a trial run that ends in a clean stop (a reboot, an operator's restart): only runs that
    /// end in a crash or a kill count against the trial's <see cref="MaxStarts"/>. Call it as the process that started
    /// <paramref name="version"/>'s trial stops; nothing happens when another version is on trial.
    /// </summary>
    /// <param name="version">The version this process ran on trial.</param>
    public void EndTrialRunCleanly(string version)
    {
        if (State.Trial is { Starts: > 0 } trial && trial.Entry.Version == version)
        {
            Save(State with { Trial = trial with { Starts = trial.Starts - 1 } });
        }
    }

    /// <summary>Commits the trial version after its health window: it becomes the committed one, the old committed one the previous.</summary>
    public void Commit()
    {
        var trial = State.Trial ?? throw new UpdateException("no version is on trial");
        var superseded = State.Previous;
        Save(State with { Trial = null, Committed = trial.Entry, Previous = State.Committed ?? State.Previous });
        Forget(superseded);
    }

    /// <summary>Ends the trial: the version is quarantined and never tried again; the committed version is in force.</summary>
    /// <param name="reason">Why, kept with the quarantine.</param>
    public void Revert(string reason)
    {
        var trial = State.Trial ?? throw new UpdateException("no version is on trial");
        var quarantined = new Dictionary<string, string>(State.Quarantined) { [trial.Entry.Version] = reason };
        Save(State with { Trial = null, Quarantined = quarantined });
        Forget(trial.Entry);
    }

    /// <summary>
    /// Drops the trial without quarantining it: the version was fine, but the rollout sent the
    /// device back (a halt); it may be offered again when the rollout resumes.
    /// </summary>
    public void Abandon()
    {
        var trial = State.Trial ?? throw new UpdateException("no version is on trial");
        Save(State with { Trial = null });
        Forget(trial.Entry);
    }

    /// <summary>
    /// Chooses what a start runs, for content and agent builds alike:
    /// <code>
    ///   trial with starts left   count the start (persisted), open it; refused -> quarantine, go on below
    ///   trial out of starts      quarantine without opening it (an open that crashed must not run again)
    ///   committed, previous      the first that opens
    /// </code>
    /// The revert never opens the bad version: a trial that crashed the process is recognised by its start count alone.
    /// </summary>
    /// <typeparam name="T">What opening a slot gives.</typeparam>
    /// <param name="open">Opens a slot whose file verified: the value, or the reason it is refused.</param>
    /// <returns>The choice.</returns>
    public SlotChoice<T> Choose<T>(Func<SlotEntry, byte[], (T? Value, string? Refusal)> open)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(open);
        var refused = new List<RefusedSlot>();
        var pending = State.Trial;
        if (StartTrial() is { } trial)
        {
            if (TryOpen(trial.Entry, "trial", open, refused) is { } value)
            {
                return new SlotChoice<T>(value, trial.Entry, OnTrial: true, refused);
            }

            Revert(refused[^1].Reason);
        }
        else if (pending is not null)
        {
            refused.Add(new RefusedSlot("trial", pending.Entry.Version, $"quarantined: {State.Quarantined.GetValueOrDefault(pending.Entry.Version, "failed its trial")}"));
        }

        foreach (var (entry, name) in new[] { (State.Committed, "committed"), (State.Previous, "previous") })
        {
            if (entry is not null && TryOpen(entry, name, open, refused) is { } value)
            {
                return new SlotChoice<T>(value, entry, OnTrial: false, refused);
            }
        }

        return new SlotChoice<T>(null, null, OnTrial: false, refused);
    }

    /// <summary>Reads a slot's file and checks its hash.</summary>
    /// <param name="entry">The slot.</param>
    /// <returns>The bytes, or <see langword="null"/> when the file is missing or damaged.</returns>
    public byte[]? ReadVerified(SlotEntry? entry)
    {
        if (entry is null)
        {
            return null;
        }

        try
        {
            var bytes = File.ReadAllBytes(Path.Combine(Directory, entry.File));
            return string.Equals(Convert.ToHexStringLower(SHA256.HashData(bytes)), entry.Sha256, StringComparison.Ordinal) ? bytes : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // A write killed before its rename leaves a hidden temporary file; one updater owns the directory, so any found at open is torn.
    private void RemoveTornWrites()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return;
        }

        foreach (var torn in System.IO.Directory.EnumerateFiles(Directory, ".*.tmp"))
        {
            try
            {
                File.Delete(torn);
            }
            catch (IOException)
            {
                // Tried again at the next open.
            }
        }
    }

    private T? TryOpen<T>(SlotEntry entry, string slot, Func<SlotEntry, byte[], (T? Value, string? Refusal)> open, List<RefusedSlot> refused)
        where T : class
    {
        var bytes = ReadVerified(entry);
        if (bytes is null)
        {
            refused.Add(new RefusedSlot(slot, entry.Version, "is missing or damaged (SHA-256 differs)"));
            return null;
        }

        var (value, refusal) = open(entry, bytes);
        if (value is null)
        {
            refused.Add(new RefusedSlot(slot, entry.Version, refusal ?? "does not open"));
        }

        return value;
    }

    private static bool Matches(string path, string sha256)
    {
        using var stream = File.OpenRead(path);
        return string.Equals(Convert.ToHexStringLower(SHA256.HashData(stream)), sha256, StringComparison.Ordinal);
    }

    private static string Sanitize(string version) =>
        string.Concat(version.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_'));

    private SlotState Load()
    {
        foreach (var name in (string[])["state.json", "state.previous.json"])
        {
            try
            {
                var path = Path.Combine(Directory, name);
                if (File.Exists(path) && JsonSerializer.Deserialize(File.ReadAllBytes(path), SlotStateJson.Default.SlotState) is { } state)
                {
                    return state;
                }
            }
            catch (Exception e) when (e is JsonException or IOException)
            {
                // A damaged state file: fall back to the one before it.
            }
        }

        return new SlotState();
    }

    private void Save(SlotState next)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(next, SlotStateJson.Default.SlotState);
        var current = Path.Combine(Directory, "state.json");
        try
        {
            if (File.Exists(current))
            {
                OwnerOnlyFile.WriteAtomically(Path.Combine(Directory, "state.previous.json"), File.ReadAllBytes(current), overwrite: true);
            }

            OwnerOnlyFile.WriteAtomically(current, bytes, overwrite: true);
        }
        catch (IOException e)
        {
            throw new UpdateException($"the update state could not be saved: {e.Message}", isTransient: true, e);
        }

        State = next;
    }

    // Deletes a file no slot names any more; a failure only leaves a stray file behind.
    private void Forget(SlotEntry? entry)
    {
        if (entry is null || Named(entry.File))
        {
            return;
        }

        try
        {
            File.Delete(Path.Combine(Directory, entry.File));
        }
        catch (IOException)
        {
            // Cleaned up with the next change.
        }
    }

    private bool Named(string file) =>
        State.Committed?.File == file || State.Previous?.File == file || State.Staged?.File == file || State.Trial?.Entry.File == file;
}
