using System.Globalization;
using Gatehouse.Rollouts.Plans;

namespace Gatehouse.Bench.Fleet;

/// <summary>
/// Prints what the fleet simulator measured: how far a bad release got before the rollout
/// halted (against the whole fleet, which is where it would have gone without halting), that a
/// good release completes, and that halt and resume reach the same devices.
/// </summary>
internal static class FleetBench
{
    private const double Target = 0.001;

    public static int Run(string[] args)
    {
        var devices = Option(args, "--devices", 1_000_000);
        var internalDevices = Option(args, "--internal", devices / 2000); // 0.05% of the fleet in internal groups
        var culture = CultureInfo.InvariantCulture;
        Console.WriteLine($"fleet: {devices.ToString("N0", culture)} virtual devices, {internalDevices.ToString("N0", culture)} in internal groups; ring plan (internal, canary 1%, early 10%, broad)");
        var fleet = new FleetSimulator(devices, internalDevices, "agent-1.5.0", seed: 1);
        var failures = 0;

        foreach (var scenario in new[] { FleetScenario.HalfCrash(internalDevices), FleetScenario.HalfSilent(internalDevices) })
        {
            var result = fleet.Run(scenario, RolloutPlan.Rings(), seed: 2);
            failures += Print(result, judged: true) ? 0 : 1;
        }

        // The same bad release with no internal group: the canary is the first ring.
        var noInternal = new FleetSimulator(devices, 0, "agent-1.5.0", seed: 1);
        failures += Print(noInternal.Run(FleetScenario.HalfCrash(0) with { Name = "bad release, no internal ring (canary first): half crash-loop" }, RolloutPlan.Rings(internalRing: false), seed: 2), judged: true) ? 0 : 1;
        Print(fleet.Run(FleetScenario.Subtle(internalDevices), RolloutPlan.Rings(), seed: 3), judged: false);

        var good = fleet.Run(FleetScenario.Good(internalDevices), RolloutPlan.Rings(), seed: 4);
        Print(good, judged: false);
        if (good.Outcome != "completed" || good.Received != devices)
        {
            Console.WriteLine("  FAIL: the good release did not reach the whole fleet");
            failures++;
        }

        failures += HaltAndResume(fleet, internalDevices) ? 0 : 1;
        Console.WriteLine(failures == 0 ? "fleet: all targets met" : $"fleet: {failures} target(s) missed");
        return failures == 0 ? 0 : 1;
    }

    // Halts the good release by hand 20 minutes into the canary and resumes it an hour later; three
    // hours on (every device has polled since), the devices reached are those of a run never halted.
    private static bool HaltAndResume(FleetSimulator fleet, int internalDevices)
    {
        const int haltAt = (4 * 60) + 20;
        const int compareAt = haltAt + 60 + 180;
        var straight = fleet.Run(FleetScenario.Good(internalDevices), RolloutPlan.Rings(), seed: 5, keepReceived: true, stopAtMinute: compareAt);
        var interrupted = fleet.Run(FleetScenario.Good(internalDevices), RolloutPlan.Rings(), seed: 5, haltAtMinute: haltAt, keepReceived: true, stopAtMinute: compareAt);
        var same = straight.ReceivedDevices!.SetEquals(interrupted.ReceivedDevices!);
        Console.WriteLine("halt and resume: the good release halted by hand 20 min into the canary, resumed an hour later:");
        Console.WriteLine($"  the halt sent {interrupted.RolledBack:N0} devices back; 3 h after the resume {interrupted.Received:N0} devices had received it, {straight.Received:N0} in a run never halted; same devices: {(same ? "yes" : "NO")}");
        return same;
    }

    private static bool Print(FleetResult result, bool judged)
    {
        var share = (double)result.Received / result.Devices;
        var culture = CultureInfo.InvariantCulture;
        Console.WriteLine($"{result.Scenario.Name}:");
        Console.WriteLine($"  {result.Outcome} at stage {result.Stage} after {result.SimulatedTime.TotalHours.ToString("0.#", culture)} simulated hours ({result.WallTime.TotalSeconds.ToString("0.00", culture)} s wall): {result.Reason}");
        Console.WriteLine($"  received the release: {result.Received.ToString("N0", culture)} devices = {share.ToString("0.####%", culture)} of the fleet (without halting: {result.Devices.ToString("N0", culture)} = 100%); sent back: {result.RolledBack.ToString("N0", culture)}");
        if (!judged)
        {
            return true;
        }

        var met = result.Outcome == "halted" && share <= Target;
        Console.WriteLine($"  target: at most {Target.ToString("0.#%", culture)} of the fleet before the halt: {(met ? "met" : "MISSED")}");
        return met;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
