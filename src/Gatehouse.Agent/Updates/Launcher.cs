using System.Diagnostics;
using System.Runtime.InteropServices;
using Gatehouse.Updates.Releases;
using Gatehouse.Wire.Agent;

namespace Gatehouse.Agent.Updates;

/// <summary>
/// <c>gatehouse-agent launch</c>: what systemd starts. It picks the build to run (<see cref="ReleaseSlots.ChooseForStart"/>),
/// runs it with the given arguments, passes SIGTERM on, and commits a trial build once it has run
/// for the health window and its service says the tunnel is up with no data plane restart since
/// it started. It exits with the build's exit code, so systemd's restart policy sees a crash as a
/// crash; three starts of a trial build that never commit and the next start runs the old build. A
/// trial build that exits 0 after the SIGTERM passed on to it gets its start back: a reboot is not a crash.
/// </summary>
internal static class Launcher
{
    public static async Task<int> RunAsync(string installDirectory, TimeSpan healthWindow, string statusSocket, IReadOnlyList<string> arguments)
    {
        var releases = new ReleaseSlots(installDirectory);
        var choice = releases.ChooseForStart();
        foreach (var refused in choice.Refused)
        {
            await Console.Error.WriteLineAsync($"gatehouse-agent launch: {refused}");
        }

        if (choice is not { Value: { } executable, Entry: { } entry })
        {
            await Console.Error.WriteLineAsync($"gatehouse-agent launch: no agent build is installed in {installDirectory}");
            return Commands.AgentCommand.StartFailed;
        }

        await Console.Error.WriteLineAsync($"gatehouse-agent launch: starting {entry.Version}{(choice.OnTrial ? " (trial)" : "")}");
        var start = new ProcessStartInfo(executable) { UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Service.SupervisorWatch.Name(start);

        // Listening before the build starts: a SIGTERM that came between the two ended the launcher the runtime's way
        // and left the build running, unstopped and unwatched (seen under load in AgentReleaseTests).
        Process? running = null;
        var stopAsked = false;
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            Volatile.Write(ref stopAsked, true);
            if (Volatile.Read(ref running) is { } process)
            {
                Service.ProcessSignals.Terminate(process);
            }
        });
        using var build = Process.Start(start)!;
        Volatile.Write(ref running, build);
        if (Volatile.Read(ref stopAsked))
        {
            Service.ProcessSignals.Terminate(build); // asked while it started
        }

        if (choice.OnTrial)
        {
            using var exited = new CancellationTokenSource();
            var watch = CommitWhenHealthyAsync(releases, entry.Version, healthWindow, statusSocket, exited.Token);
            await build.WaitForExitAsync();
            await exited.CancelAsync();
            await watch;

            // Stopped when asked (a reboot, systemctl restart) and exited cleanly: not a crash, so the start is given back.
            if (Volatile.Read(ref stopAsked) && build.ExitCode == 0)
            {
                releases.EndTrialRunCleanly(entry.Version);
            }
        }

        await build.WaitForExitAsync();
        return build.ExitCode;
    }

    // After the window, asks the service's local API until it says Connected with no data plane restart; a build
    // that exits first, or never gets there, stays on trial and its next start counts against it.
    private static async Task CommitWhenHealthyAsync(ReleaseSlots releases, string version, TimeSpan window, string statusSocket, CancellationToken exited)
    {
        var started = Stopwatch.GetTimestamp();
        var every = TimeSpan.FromTicks(Math.Clamp(window.Ticks / 4, TimeSpan.FromMilliseconds(100).Ticks, TimeSpan.FromSeconds(5).Ticks));
        string? last = null;
        try
        {
            await Task.Delay(window, exited);
            while (true)
            {
                var (healthy, why) = await AskAsync(statusSocket, exited);
                if (healthy)
                {
                    releases.CommitIfTrial(version);
                    await Console.Error.WriteLineAsync($"gatehouse-agent launch: {version} ran for {Stopwatch.GetElapsedTime(started).TotalSeconds:0} s with the tunnel up and no restart; committed");
                    return;
                }

                if (why != last)
                {
                    await Console.Error.WriteLineAsync($"gatehouse-agent launch: {version} stays on trial: {why}");
                    last = why;
                }

                await Task.Delay(every, exited);
            }
        }
        catch (OperationCanceledException) when (exited.IsCancellationRequested)
        {
            // The build exited before it was healthy: not committed.
        }
    }

    private static async Task<(bool Healthy, string Why)> AskAsync(string statusSocket, CancellationToken ct)
    {
        AgentStatus? status;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            status = (await AgentLocalApi.CallAsync(statusSocket, new AgentRequest(AgentCommands.Status), timeout.Token)).Status;
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or InvalidDataException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return (false, $"its service does not answer on {statusSocket} ({e.Message})");
        }

        return status switch
        {
            null => (false, "its service sent no status"),
            { RoleRestarts: > 0 } => (false, $"the data plane restarted {status.RoleRestarts} times"),
            { State: AgentStates.Connected } => (true, "connected"),
            _ => (false, $"the agent is {status.State}, not connected: {status.Summary}"),
        };
    }
}
