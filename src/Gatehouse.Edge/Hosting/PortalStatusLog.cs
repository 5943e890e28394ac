using Gatehouse.Edge.Operations;
using Gatehouse.Node.Config;

namespace Gatehouse.Edge.Hosting;

/// <summary>
/// Logs how the edge stands with the portal when that changes: connected, unreachable or refused, and with
/// which error. The follower reports every answer of the portal (each one moves the last contact), which
/// logged "Portal connected since …" again after every long poll.
/// </summary>
internal sealed class PortalStatusLog(ILogger logger)
{
    private readonly Lock _lock = new();
    private (PortalConnection Connection, string? Error)? _logged;

    /// <summary>The follower's <see cref="BundleFollower.StatusChanged"/> handler.</summary>
    public void OnStatusChanged(object? sender, BundleFollowerStatus status)
    {
        // Once connected again, the last error is history: it is not news.
        var now = (status.Connection, Error: status.Connection == PortalConnection.Connected ? null : status.LastError);
        lock (_lock)
        {
            if (_logged == now)
            {
                return;
            }

            _logged = now;
        }

        HostLog.PortalStatus(logger, OpsEndpoints.PortalState(status.Connection), status.Since, now.Error is null ? string.Empty : $": {now.Error}");
    }
}
