using System.Text.Json;
using Gatehouse.Updates;

namespace Gatehouse.Agent.Updates;

/// <summary>
/// The polling loop of the updaters: one check, then a wait of the interval ±20% (so that a fleet
/// does not poll in step), never shorter than the portal asked for (<c>Retry-After</c>).
/// </summary>
internal static class JitteredPoll
{
    /// <param name="check">One check; returns how long the portal asked to wait, if it did.</param>
    /// <param name="interval">The mean wait between checks.</param>
    /// <param name="time">The clock.</param>
    /// <param name="failed">Told of a check that failed on the network, a file or the disk; the loop goes on.</param>
    /// <param name="ct">Stops the loop.</param>
    public static async Task RunAsync(Func<CancellationToken, Task<TimeSpan?>> check, TimeSpan interval, TimeProvider time, Action<Exception> failed, CancellationToken ct)
    {
        var random = new Random();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                TimeSpan? retryAfter = null;
                try
                {
                    retryAfter = await check(ct);
                }
                catch (Exception e) when (e is HttpRequestException or IOException or UpdateException or JsonException or TaskCanceledException && !ct.IsCancellationRequested)
                {
                    failed(e);
                }

                var wait = interval * (0.8 + (0.4 * random.NextDouble()));
                await Task.Delay(retryAfter > wait ? retryAfter.Value : wait, time, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // stopping
        }
    }
}
