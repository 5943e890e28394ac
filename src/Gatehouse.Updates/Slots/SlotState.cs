using System.Text.Json.Serialization;

namespace Gatehouse.Updates.Slots;

/// <summary>One version held in a slot: its file and the hash it must have.</summary>
/// <param name="Version">The version.</param>
/// <param name="Sha256">The SHA-256 of the file, hex.</param>
/// <param name="File">The file's name in the slot directory.</param>
public sealed record SlotEntry(string Version, string Sha256, string File);

/// <summary>A version on trial: how often it was started, and since when.</summary>
/// <param name="Entry">The version.</param>
/// <param name="Starts">Starts recorded before each load; a load that crashes leaves its start counted.</param>
/// <param name="Since">When the trial began.</param>
public sealed record TrialEntry(SlotEntry Entry, int Starts, DateTimeOffset Since);

/// <summary>
/// What a slot directory holds: the committed version, the one before it, a staged version
/// waiting for its trial, the version on trial, and versions that failed and are never tried again.
/// </summary>
public sealed record SlotState
{
    /// <summary>The last version that passed its health window.</summary>
    public SlotEntry? Committed { get; init; }

    /// <summary>The committed version before it (N-1), kept in case the committed file is damaged.</summary>
    public SlotEntry? Previous { get; init; }

    /// <summary>A verified download waiting to be tried.</summary>
    public SlotEntry? Staged { get; init; }

    /// <summary>The version being tried.</summary>
    public TrialEntry? Trial { get; init; }

    /// <summary>Versions that failed their trial, with the reason: never staged again.</summary>
    public IReadOnlyDictionary<string, string> Quarantined { get; init; } = new Dictionary<string, string>();
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(SlotState))]
internal sealed partial class SlotStateJson : JsonSerializerContext;
