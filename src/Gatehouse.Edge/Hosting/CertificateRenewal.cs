using Gatehouse.Node;
using Gatehouse.Node.Config;
using Gatehouse.Node.Credentials;
using Gatehouse.Node.Enrollment;

namespace Gatehouse.Edge.Hosting;

/// <summary>
/// Renews the edge's certificate while it runs: at start and then every hour, when less than a
/// third of the certificate's lifetime is left, it asks the portal for a new one (same key),
/// saves it and hands it to the bundle follower for its next call. A failure is logged and
/// tried again at the next check; the current certificate keeps working until it expires.
/// </summary>
internal sealed class CertificateRenewal(NodeCredentialStore store, BundleFollower follower, TimeProvider time, ILoggerFactory loggers, Action<NodeCredentials>? onRenewed = null) : IAsyncDisposable
{
    private readonly ILogger _logger = loggers.CreateLogger<CertificateRenewal>();
    /// <summary>How often the certificate's age is checked.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromHours(1);

    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    public void Start() => _loop = RunAsync(_stop.Token);

    /// <summary>Renews when due; returns whether it did.</summary>
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
        HostLog.CertificateRenewed(_logger, renewed.NotAfter);
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
            catch (NodeException e)
            {
                HostLog.CertificateRenewalFailed(_logger, e.Message);
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
