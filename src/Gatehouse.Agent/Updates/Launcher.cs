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
        foreach (var refused in choice?.Refused ?? [])
        {
            await Console.Error.WriteLineAsync($"gatehouse-agent launch: {refused}");
        }

        if (choice is null)
        {
            await Console.Error.WriteLineAsync($"gatehouse-agent launch: no agent build is installed in {installDirectory}");
            return Commands.AgentCommand.StartFailed;
        }

        await Console.Error.WriteLineAsync($"gatehouse-agent launch: starting {choice.Version}{(choice.OnTrial ? " (trial)" : "")}");
        var start = new ProcessStartInfo(choice.Executable) { UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var build = Process.Start(start)!;
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            Forward(build);
        });
        if (choice.OnTrial)
        {
            var exited = build.WaitForExitAsync();
            if (await Task.WhenAny(exited, Task.Delay(healthWindow)) != exited)
            {
                releases.CommitIfTrial(choice.Version);
                await Console.Error.WriteLineAsync($"gatehouse-agent launch: {choice.Version} ran for {healthWindow.TotalSeconds:0} s; committed");
            }
        }

        await build.WaitForExitAsync();
        return build.ExitCode;
    }

    private static void Forward(Process build)
    {
        try
        {
            if (!build.HasExited)
            {
                _ = Kill(build.Id, 15);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
}
