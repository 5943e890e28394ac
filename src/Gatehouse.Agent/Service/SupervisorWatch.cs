using System.Diagnostics;

namespace Gatehouse.Agent.Service;

/// <summary>
/// A role process's tie to the process that started it and watches over it (the service's watchdog for the data
/// plane, <c>gatehouse-agent launch</c> for the service). The starter names itself in <see cref="Variable"/>; once
/// this process's parent is someone else (the starter was killed or crashed, and the kernel handed this process to
/// init), the role stops as on SIGTERM, instead of holding its ports and its nftables table with nothing left to
/// restart, stop or answer for it. Under systemd the unit's control group is stopped anyway; run any other way
/// (<c>./up.sh</c>, by hand) nothing else would stop it, and a new service's data plane could not take the ports.
/// </summary>
internal static class SupervisorWatch
{
    /// <summary>The environment variable that carries the starter's process id.</summary>
    public const string Variable = "GATEHOUSE_AGENT_SUPERVISOR";

    /// <summary>How often the parent is looked at.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>Names this process as the starter of the process <paramref name="start"/> makes.</summary>
    public static void Name(ProcessStartInfo start)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.Environment[Variable] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Completes when the starter this process was given is no longer its parent; never, when it was given none
    /// (started by systemd or by hand).
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled.</exception>
    public static async Task StarterGoneAsync(CancellationToken ct)
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable(Variable), out var starter))
        {
            await Task.Delay(Timeout.Infinite, ct);
            return;
        }

        while (ParentProcessId() == starter)
        {
            await Task.Delay(Interval, ct);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "getppid")]
    [System.Runtime.InteropServices.DefaultDllImportSearchPaths(System.Runtime.InteropServices.DllImportSearchPath.SafeDirectories)]
    private static extern int ParentProcessId();
}
