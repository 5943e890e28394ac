using Gatehouse.Node.Config;
using Gatehouse.Node.Credentials;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Node.Enrollment;

/// <summary>
/// Renews a node's certificate while it runs: at start and then every hour, when less than a
/// third of the certificate's lifetime is left, it asks the portal for a new one (same key),
/// saves it and hands it to the bundle follower for its next call. A failure is logged (by <see cref="NodeEnrollment"/>) and
/// tried again at the next check; the current certificate keeps working until it expires.
/// </summary>
/// <param name="store">The node's credential store.</param>
/// <param name="follower">Gets the renewed certificate for its next call to the portal.</param>
/// <param name="time">The clock.</param>
/// <param name="loggers">Where to log.</param>
/// <param name="onRenewed">Called with the renewed credentials (they are disposed after the call).</param>
public sealed class CertificateRenewal(NodeCredentialStore store, BundleFollower follower, TimeProvider time, ILoggerFactory loggers, Action<NodeCredentials>? onRenewed = null) : IAsyncDisposable
{
    /// <summary>How often the certificate's age is checked.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromHours(1);

    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    /// <summary>Starts checking in the background.</summary>
    public void Start() => _loop = RunAsync(_stop.Token);

    /// <summary>Renews when due; returns whether it did.</summary>
    /// <param name="ct">Cancels the renewal.</param>
    /// <exception cref="NodeException">The portal refused or could not be reached.</exception>
    public async Task<bool> RenewIfDueAsync(CancellationToken ct)
    {
        using (var current = store.Load())
        {
            if (current is null || !current.ShouldRenew(time.GetUtcNow()))
            {
                return false;
            }
        }

        using var renewed = await new NodeEnrollment(time, loggers.CreateLogger<NodeEnrollment>()).RenewAsync(store, ct);
        follower.UseCredentials(renewed);
        onRenewed?.Invoke(renewed);
        return true;
    }

    private async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await RenewIfDueAsync(ct);
            }
            catch (NodeException)
            {
                // NodeEnrollment logged it; the next check tries again.
            }

            try
            {
                await Task.Delay(CheckInterval, time, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
            // stopping
        }

        _stop.Dispose();
    }
}
