using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Agent.Service;

/// <summary>How to start a role's process.</summary>
/// <param name="FileName">The executable.</param>
/// <param name="Arguments">Its arguments.</param>
public sealed record RoleCommand(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>
    /// This program run with <paramref name="arguments"/>: the native executable, or the same
    /// <c>dotnet exec … gatehouse-agent.dll</c> prefix this process was started with (read from
    /// <c>/proc/self/cmdline</c>, everything before the first role command).
    /// </summary>
    public static RoleCommand ForThisProgram(IReadOnlyList<string> arguments)
    {
        var self = Environment.ProcessPath ?? "gatehouse-agent";
        if (!string.Equals(Path.GetFileNameWithoutExtension(self), "dotnet", StringComparison.Ordinal))
        {
            return new RoleCommand(self, arguments);
        }

        try
        {
            var command = File.ReadAllText("/proc/self/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
            var role = Array.FindIndex(command, 1, a => a is "service" or "dataplane");
            if (role > 1)
            {
                return new RoleCommand(command[0], [.. command[1..role], .. arguments]);
            }
        }
        catch (IOException)
        {
            // No /proc: fall through.
        }

        return new RoleCommand(self, [Environment.GetCommandLineArgs()[0], .. arguments]);
    }
}

/// <summary>
/// The watchdog of one role process: starts it, and when it exits while it should run, cleans up what
/// it left behind and starts it again: at once after a run that lasted <see cref="StableAfter"/>,
/// otherwise after <see cref="FirstBackoff"/>, doubling (up to <see cref="MaxBackoff"/>) while it
/// keeps crashing.
/// </summary>
internal sealed class RoleSupervisor : IAsyncDisposable
{
    /// <summary>The wait before restarting a role that exited before <see cref="StableAfter"/> (the first of a crash loop).</summary>
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest wait between restarts of a crash-looping role.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>A run this long counts as healthy: the next crash restarts at once again.</summary>
    public static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(30);

    /// <summary>How long a stopping role gets after SIGTERM before it is killed.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    private readonly RoleCommand _command;
    private readonly Action _cleanUp;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private CancellationTokenSource? _running;
    private Task _loop = Task.CompletedTask;
    private int? _pid;
    private int _restarts;
    private RoleExit? _lastExit;

    private readonly TimeSpan _firstBackoff;

    public RoleSupervisor(RoleCommand command, Action cleanUp, ILogger logger, TimeSpan? firstBackoff = null)
    {
        _firstBackoff = firstBackoff ?? FirstBackoff;
        _command = command;
        _cleanUp = cleanUp;
        _logger = logger;
    }

    /// <summary>How many times the role was restarted after it exited on its own.</summary>
    public int Restarts => Volatile.Read(ref _restarts);

    /// <summary>How and when the role last exited on its own.</summary>
    public RoleExit? LastExit => Volatile.Read(ref _lastExit);

    /// <summary>The running process's id, if one runs.</summary>
    public int? Pid
    {
        get
        {
            lock (_lock)
            {
                return _pid;
            }
        }
    }

    /// <summary>Whether the supervisor keeps the role running.</summary>
    public bool IsSupervising
    {
        get
        {
            lock (_lock)
            {
                return _running is not null;
            }
        }
    }

    /// <summary>Starts the role and keeps it running until <see cref="StopAsync"/>.</summary>
    public void Start()
    {
        lock (_lock)
        {
            if (_running is not null)
            {
                return;
            }

            _running = new CancellationTokenSource();
            _loop = SuperviseAsync(_running.Token);
        }
    }

    /// <summary>Stops the role (SIGTERM, then kill after <see cref="StopGrace"/>) and cleans up after it.</summary>
    public async Task StopAsync()
    {
        CancellationTokenSource? running;
        lock (_lock)
        {
            running = _running;
            _running = null;
        }

        if (running is null)
        {
            return;
        }

        await running.CancelAsync();
        await _loop;
        running.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task SuperviseAsync(CancellationToken ct)
    {
        var delay = TimeSpan.Zero;
        while (!ct.IsCancellationRequested)
        {
            _cleanUp();
            var started = Stopwatch.GetTimestamp();
            using var process = StartProcess();
            lock (_lock)
            {
                _pid = process.Id;
            }

            AgentLog.RoleStarted(_logger, process.Id);
            try
            {
                await process.WaitForExitAsync(ct);
            }
            catch (OperationCanceledException)
            {
                await TerminateAsync(process);
                Exited();
                _cleanUp();
                return;
            }

            Exited();

            var ran = Stopwatch.GetElapsedTime(started);
            delay = ran >= StableAfter ? TimeSpan.Zero : delay == TimeSpan.Zero ? _firstBackoff : TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxBackoff.Ticks));
            var restarts = Interlocked.Increment(ref _restarts);
            Volatile.Write(ref _lastExit, new RoleExit($"the data plane exited with code {process.ExitCode} after {ran.TotalSeconds:0.#} s", TimeProvider.System.GetUtcNow()));
            AgentLog.RoleExited(_logger, process.ExitCode, restarts, (long)delay.TotalMilliseconds);
            _cleanUp();
            try
            {
                await Task.Delay(delay, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Exited()
    {
        lock (_lock)
        {
            _pid = null;
        }
    }

    private Process StartProcess()
    {
        var info = new ProcessStartInfo(_command.FileName) { UseShellExecute = false };
        foreach (var argument in _command.Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        SupervisorWatch.Name(info);

        return Process.Start(info) ?? throw new InvalidOperationException($"{_command.FileName} did not start.");
    }

    private static async Task TerminateAsync(Process process)
    {
        if (process.HasExited)
        {
            return;
        }

        try
        {
            ProcessSignals.Terminate(process);

            using var grace = new CancellationTokenSource(StopGrace);
            await process.WaitForExitAsync(grace.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}

/// <summary>How a supervised role exited on its own.</summary>
/// <param name="Reason">In plain words, such as <c>the data plane exited with code 3 after 1.2 s</c>.</param>
/// <param name="At">When.</param>
internal sealed record RoleExit(string Reason, DateTimeOffset At);
