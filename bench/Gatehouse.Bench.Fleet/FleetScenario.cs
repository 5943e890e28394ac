namespace Gatehouse.Bench.Fleet;

/// <summary>How the virtual devices behave once they install the release.</summary>
/// <param name="Name">What the scenario shows.</param>
/// <param name="CrashProbability">The chance an updated device crash-loops (and reports it after going back by itself).</param>
/// <param name="SilentProbability">The chance an updated device dies without a word.</param>
/// <param name="RestartsPerHour">The updated devices' background restart rate (the baseline's is <see cref="FleetSimulator.BaselineRestartsPerHour"/>).</param>
/// <param name="InternalDevices">How many devices belong to internal groups (the first ring).</param>
public sealed record FleetScenario(string Name, double CrashProbability, double SilentProbability, double RestartsPerHour, int InternalDevices)
{
    public static FleetScenario Good(int internalDevices) => new("good release", 0, 0, FleetSimulator.BaselineRestartsPerHour, internalDevices);

    public static FleetScenario HalfCrash(int internalDevices) => new("bad release: half the devices crash-loop", 0.5, 0, FleetSimulator.BaselineRestartsPerHour, internalDevices);

    public static FleetScenario HalfSilent(int internalDevices) => new("bad release: half the devices die silently", 0, 0.5, FleetSimulator.BaselineRestartsPerHour, internalDevices);

    public static FleetScenario Subtle(int internalDevices) => new("subtle release: 3% crash, restarts x4", 0.03, 0, FleetSimulator.BaselineRestartsPerHour * 4, internalDevices);
}

/// <summary>What one run of the simulator measured.</summary>
public sealed record FleetResult(
    FleetScenario Scenario,
    int Devices,
    int Received,
    int RolledBack,
    string Outcome,
    string Stage,
    string Reason,
    TimeSpan SimulatedTime,
    TimeSpan WallTime,
    HashSet<int>? ReceivedDevices);
