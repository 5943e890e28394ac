using System.Diagnostics;
using Gatehouse.Rollouts.Control;
using Gatehouse.Rollouts.Health;
using Gatehouse.Rollouts.Plans;
using Gatehouse.Wire.Updates;

namespace Gatehouse.Bench.Fleet;

/// <summary>
/// A fleet of virtual devices run through a rollout by the real <see cref="RolloutController"/>,
/// minute by minute. Each device polls for updates once an hour at its own minute, installs the
/// new version when the controller's assignment includes it, and then behaves as the scenario
/// says: it reports health within five minutes, or crash-loops, goes back by itself and reports
/// that within two to six minutes, or dies silently (the portal counts it after 15 minutes). A
/// halted rollout sends every updated device back at its next poll.
/// </summary>
public sealed class FleetSimulator
{
    public const double BaselineRestartsPerHour = 0.05;

    private const int PollMinutes = 60;
    private const int SilenceMinutes = 15;
    private const int MaxSamples = 5_000;

    private const byte Old = 0, Updated = 1, WentBack = 2, Dead = 3;

    private readonly int devices;
    private readonly int[] position;
    private readonly bool[] isInternal;
    private readonly List<int>[] pollsAt = new List<int>[PollMinutes];
    private readonly double[] baselineSample;

    public FleetSimulator(int devices, int internalDevices, string releaseId, int seed)
    {
        this.devices = devices;
        var random = new Random(seed);
        position = new int[devices];
        isInternal = new bool[devices];
        for (var i = 0; i < PollMinutes; i++)
        {
            pollsAt[i] = new List<int>(devices / PollMinutes + 16);
        }

        Span<byte> id = stackalloc byte[16];
        for (var i = 0; i < devices; i++)
        {
            random.NextBytes(id);
            position[i] = RolloutCohort.Position(new Guid(id), releaseId);
            isInternal[i] = i < internalDevices;
            pollsAt[random.Next(PollMinutes)].Add(i);
        }

        baselineSample = [.. Enumerable.Range(0, MaxSamples).Select(_ => (double)Poisson(random, BaselineRestartsPerHour))];
    }

    /// <summary>Runs the scenario until the rollout completes, or halts and every updated device went back, or 30 days pass.</summary>
    /// <param name="scenario">How updated devices behave.</param>
    /// <param name="plan">The rollout plan.</param>
    /// <param name="seed">The seed of device behaviour.</param>
    /// <param name="haltAtMinute">Halt by hand at this minute and resume an hour later (the halt-and-resume run).</param>
    /// <param name="keepReceived">Whether to return the set of devices that received the release.</param>
    /// <param name="stopAtMinute">Stop at this minute whatever the state.</param>
    /// <returns>What happened.</returns>
    public FleetResult Run(FleetScenario scenario, RolloutPlan plan, int seed, int? haltAtMinute = null, bool keepReceived = false, int stopAtMinute = 30 * 24 * 60)
    {
        var watch = Stopwatch.StartNew();
        var random = new Random(seed);
        var state = new byte[devices];
        var start = DateTimeOffset.UnixEpoch;
        var controller = new RolloutController(plan, start);
        var events = new Dictionary<int, List<(int Device, bool Crashed)>>();
        var silenceChecks = new Queue<(int Minute, int Device)>();
        var reported = new bool[devices];
        var candidateSample = new List<double>(MaxSamples);
        int attempts = 0, received = 0, updated = 0, reporting = 0, crashed = 0, silent = 0, rolledBack = 0, dead = 0;
        var receivedDevices = keepReceived ? new HashSet<int>() : null;
        var halted = false;
        var minute = 0;
        var lastDecision = new RolloutDecision(RolloutDecisionKind.Wait, controller.Stage.Name, "");
        for (; minute < stopAtMinute; minute++)
        {
            var now = start.AddMinutes(minute);
            var assignment = controller.Assignment;
            foreach (var device in pollsAt[minute % PollMinutes])
            {
                var wanted = assignment.Includes(position[device], isInternal[device]);
                if (wanted && state[device] == Old)
                {
                    attempts++;
                    received++;
                    updated++;
                    receivedDevices?.Add(device);
                    state[device] = Updated;
                    var roll = random.NextDouble();
                    if (roll < scenario.CrashProbability)
                    {
                        Schedule(events, minute + 2 + random.Next(5), device, crashed: true);
                    }
                    else if (roll < scenario.CrashProbability + scenario.SilentProbability)
                    {
                        state[device] = Dead; // never reports, never polls again
                        dead++;
                        silenceChecks.Enqueue((minute + SilenceMinutes, device));
                    }
                    else
                    {
                        Schedule(events, minute + 1 + random.Next(5), device, crashed: false);
                        silenceChecks.Enqueue((minute + SilenceMinutes, device));
                    }
                }
                else if (!wanted && state[device] == Updated)
                {
                    state[device] = WentBack;
                    rolledBack++;
                }
            }

            if (events.Remove(minute, out var due))
            {
                foreach (var (device, didCrash) in due)
                {
                    reported[device] = true;
                    reporting++;
                    if (didCrash)
                    {
                        crashed++;
                        state[device] = WentBack; // the device's own start counter took it back
                    }
                    else if (candidateSample.Count < MaxSamples)
                    {
                        candidateSample.Add(Poisson(random, scenario.RestartsPerHour));
                    }
                }
            }

            while (silenceChecks.Count > 0 && silenceChecks.Peek().Minute <= minute)
            {
                var (_, device) = silenceChecks.Dequeue();
                if (!reported[device])
                {
                    silent++;
                }
            }

            if (haltAtMinute == minute)
            {
                controller.Halt("halted by hand");
            }
            else if (haltAtMinute + 60 == minute)
            {
                controller.Resume(now);
            }

            var health = new StageHealth(attempts, 0, updated, reporting, crashed, silent, candidateSample, baselineSample);
            var decision = controller.Evaluate(now, health);
            if (decision.Kind != RolloutDecisionKind.Wait)
            {
                lastDecision = decision;
            }

            if (controller.Status == RolloutStatus.Halted && haltAtMinute is null)
            {
                halted = true;
            }

            // Stop once the outcome is settled: a halt with every updated device back, or completion with everyone updated.
            if ((halted && updated == crashed + rolledBack + dead) ||
                (controller.Status == RolloutStatus.Completed && received == devices))
            {
                break;
            }
        }

        var outcome = controller.Status.ToString().ToLowerInvariant();
        return new FleetResult(scenario, devices, received, rolledBack, outcome, lastDecision.Stage, lastDecision.Reason, TimeSpan.FromMinutes(minute), watch.Elapsed, receivedDevices);
    }

    private static void Schedule(Dictionary<int, List<(int, bool)>> events, int minute, int device, bool crashed)
    {
        if (!events.TryGetValue(minute, out var list))
        {
            events[minute] = list = [];
        }

        list.Add((device, crashed));
    }

    private static int Poisson(Random random, double lambda)
    {
        var limit = Math.Exp(-lambda);
        var k = 0;
        for (var p = random.NextDouble(); p > limit; p *= random.NextDouble())
        {
            k++;
        }

        return k;
    }
}
