using System.Diagnostics;
using System.Runtime.InteropServices;
using Gatehouse.Updates.Releases;

namespace Gatehouse.Agent.Updates;

/// <summary>
/// <c>gatehouse-agent launch</c>: what systemd starts. It picks the build to run (<see cref="ReleaseSlots.ChooseForStart"/>),
/// runs it with the given arguments, passes SIGTERM on, and commits a trial build once it has run
/// for the health window. It exits with the build's exit code, so systemd's restart policy sees a
/// crash as a crash; three crashed starts of a trial build and the next start runs the old build.
/// </summary>
internal static class Launcher
{
    public static async Task<int> RunAsync(string installDirectory, TimeSpan healthWindow, IReadOnlyList<string> arguments)
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

        using var build = Process.Start(start)!;
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            Service.ProcessSignals.Terminate(build);
        });
        if (choice.OnTrial)
        {
            var exited = build.WaitForExitAsync();
            if (await Task.WhenAny(exited, Task.Delay(healthWindow)) != exited)
            {
                releases.CommitIfTrial(entry.Version);
                await Console.Error.WriteLineAsync($"gatehouse-agent launch: {entry.Version} ran for {healthWindow.TotalSeconds:0} s; committed");
            }
        }

        await build.WaitForExitAsync();
        return build.ExitCode;
    }
}
