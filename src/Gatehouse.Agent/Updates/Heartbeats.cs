using Gatehouse.Wire.Updates;

namespace Gatehouse.Agent.Updates;

/// <summary>
/// A file that says a process runs. A crash or a kill leaves it behind, so the next start knows the
/// previous run did not stop cleanly: a restart the next heartbeat reports.
/// </summary>
internal sealed class RunMarker(string path)
{
    /// <summary>Marks this process as running.</summary>
    /// <returns>Whether the previous run ended without a clean stop.</returns>
    public bool Start()
    {
        var unclean = File.Exists(path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return unclean;
    }

    /// <summary>Removes the marker: a clean stop, so the next start is not a restart.</summary>
    public void Stop()
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // The next start counts one restart too many; harmless.
        }
    }
}

/// <summary>What a heartbeat says about the device since the previous one: restarts by role and the tunnel's results.</summary>
/// <param name="RoleRestarts">Restarts by role (<see cref="AgentRoles"/>).</param>
/// <param name="TunnelsOpened">Flows an edge answered.</param>
/// <param name="TunnelsFailed">Flows no edge answered.</param>
internal sealed record HeartbeatHealth(IReadOnlyDictionary<string, int> RoleRestarts, int TunnelsOpened, int TunnelsFailed)
{
    /// <summary>All roles' restarts together.</summary>
    public int Restarts => RoleRestarts.Values.Sum();
}

/// <summary>
/// Turns counters that only grow while a process lives (and start again from zero when it restarts)
/// into what changed since the last heartbeat.
/// </summary>
internal sealed class HeartbeatTally
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _last = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _restarts = new(StringComparer.Ordinal);

    /// <summary>Adds restarts of a role counted by this process (a run marker found at start).</summary>
    public void AddRestarts(string role, int count)
    {
        lock (_lock)
        {
            _restarts[role] = _restarts.GetValueOrDefault(role) + count;
        }
    }

    /// <summary>What changed since the last call.</summary>
    /// <param name="dataPlaneRestarts">The watchdog's count of data plane restarts, if this process has a watchdog.</param>
    /// <param name="tunnelsOpened">The data plane's count of flows an edge answered.</param>
    /// <param name="tunnelsFailed">The data plane's count of flows no edge answered.</param>
    /// <returns>The heartbeat's health.</returns>
    public HeartbeatHealth Take(long? dataPlaneRestarts, long tunnelsOpened, long tunnelsFailed)
    {
        lock (_lock)
        {
            if (dataPlaneRestarts is { } restarts)
            {
                _restarts[AgentRoles.DataPlane] = _restarts.GetValueOrDefault(AgentRoles.DataPlane) + Since("restarts", restarts);
            }

            var health = new HeartbeatHealth(
                _restarts.Where(r => r.Value > 0).ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal),
                Since("opened", tunnelsOpened),
                Since("failed", tunnelsFailed));
            _restarts.Clear();
            return health;
        }
    }

    private int Since(string counter, long current)
    {
        var last = _last.GetValueOrDefault(counter);
        _last[counter] = current;

        // Smaller than last time: the counting process started again from zero.
        return (int)Math.Min(int.MaxValue, current >= last ? current - last : current);
    }
}
