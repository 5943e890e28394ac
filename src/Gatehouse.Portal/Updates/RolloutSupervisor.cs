using Gatehouse.Portal.Hosting;
using Gatehouse.Portal.Storage;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Updates;

/// <summary>
/// Evaluates every running rollout at an interval: sums up its devices' reports, lets its
/// controller decide, stores the decision and, when what devices should run changed (a new stage,
/// a halt), publishes the new descriptor. It also keeps the repository's online roles fresh.
/// </summary>
internal sealed class RolloutSupervisor(IServiceScopeFactory scopes, UpdateRepository repository, PortalOptions options, TimeProvider time, ILogger<RolloutSupervisor> logger) : BackgroundService
{
    /// <summary>Evaluates every running rollout once.</summary>
    /// <param name="ct">Cancels the pass.</param>
    /// <returns>A task that completes when the pass is done.</returns>
    public async Task EvaluateAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var running = await db.Set<Rollout>().IgnoreQueryFilters().Where(r => r.Status == "running").ToListAsync(ct);
        foreach (var rollout in running)
        {
            var now = time.GetUtcNow();
            var (health, shown) = await RolloutHealth.ComputeAsync(db, rollout, now, TimeSpan.FromSeconds(options.RolloutSilenceSeconds), ct);
            var controller = RolloutState.ControllerOf(rollout);
            var decision = controller.Evaluate(now, health);
            rollout.Health = shown;
            var changed = RolloutState.Store(rollout, controller, now);
            await db.SaveChangesAsync(ct);
            if (changed)
            {
                UpdateLog.RolloutDecided(logger, rollout.Id, rollout.Channel, rollout.Version, rollout.TenantId, decision.Kind.ToString().ToLowerInvariant(), decision.Stage, decision.Reason);
                await repository.PublishDescriptorAsync(rollout.TenantId, RolloutState.Describe(rollout), ct);
            }
        }

        await repository.RefreshAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, options.RolloutEvaluationSeconds)), time);
        do
        {
            try
            {
                await EvaluateAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                UpdateLog.EvaluationFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
