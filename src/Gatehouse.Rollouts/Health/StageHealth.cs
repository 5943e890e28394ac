namespace Gatehouse.Rollouts.Health;

/// <summary>
/// What the devices of the current stage reported, summed up by the portal (or the fleet
/// simulator): install attempts and their outcome, crashes and silence after updating, and one
/// health metric per device for the canary-versus-baseline comparison.
/// </summary>
/// <param name="InstallAttempts">Devices that tried to install the new version.</param>
/// <param name="InstallFailures">Of those, the ones whose install failed (verification, disk, activation).</param>
/// <param name="Updated">Devices now running (or that ran) the new version.</param>
/// <param name="Reporting">Updated devices that reported health since updating.</param>
/// <param name="Crashed">Updated devices that crash-looped, went back to the old version by themselves, or restarted a role past the limit.</param>
/// <param name="Silent">Updated devices that stopped reporting after updating: counted as failures, since a dead device cannot say so.</param>
/// <param name="CandidateMetric">One value per reporting updated device (restarts of every role plus flows no edge answered, since updating); lower is healthier.</param>
/// <param name="BaselineMetric">The same metric for devices of the same tenant that stayed on the old version.</param>
public sealed record StageHealth(
    int InstallAttempts,
    int InstallFailures,
    int Updated,
    int Reporting,
    int Crashed,
    int Silent,
    IReadOnlyList<double> CandidateMetric,
    IReadOnlyList<double> BaselineMetric)
{
    /// <summary>Nothing reported yet.</summary>
    public static StageHealth None { get; } = new(0, 0, 0, 0, 0, 0, [], []);

    /// <summary>Failed devices: crashed or silent.</summary>
    public int Failed => Crashed + Silent;

    /// <summary>The share of updated devices that failed.</summary>
    public double CrashRate => Updated == 0 ? 0 : (double)Failed / Updated;

    /// <summary>The share of install attempts that failed.</summary>
    public double InstallFailureRate => InstallAttempts == 0 ? 0 : (double)InstallFailures / InstallAttempts;
}
