using System.Diagnostics;

namespace Gatehouse.Agent.Service;

/// <summary>Signals to child processes: the watchdog stopping a role, the launcher passing systemd's SIGTERM on.</summary>
internal static class ProcessSignals
{
    private const int SigTerm = 15;

    /// <summary>Sends SIGTERM to <paramref name="process"/>, so that it closes its listeners and removes what it set up; nothing when it has exited.</summary>
    public static void Terminate(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                _ = Kill(process.Id, SigTerm);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [System.Runtime.InteropServices.DefaultDllImportSearchPaths(System.Runtime.InteropServices.DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
}
