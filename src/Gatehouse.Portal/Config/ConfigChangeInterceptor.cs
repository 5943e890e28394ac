using System.Data.Common;
using System.Runtime.CompilerServices;
using Gatehouse.Portal.Admins;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Logs;
using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Gatehouse.Portal.Config;

/// <summary>
/// Tells the <see cref="ConfigPublisher"/> which tenants a saved change touched: every added,
/// changed or deleted tenant-owned row except the admin-only ones (admins, sessions, tokens,
/// audit), the bundles themselves and transaction logs (no bundle carries them, and edges write
/// them all day), plus new tenants. Inside an explicit transaction the signal
/// waits for the commit, so the publisher never reads a state from before the change.
/// </summary>
internal sealed class ConfigChangeInterceptor(ConfigPublisher publisher) : SaveChangesInterceptor, IDbTransactionInterceptor
{
    private readonly ConditionalWeakTable<DbContext, HashSet<Guid>> _pending = [];

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Collect(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Collect(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        FlushUnlessInTransaction(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        FlushUnlessInTransaction(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData) => Discard(eventData.Context);

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Discard(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Flush(eventData.Context);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Flush(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Discard(eventData.Context);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Discard(eventData.Context);
        return Task.CompletedTask;
    }

    private void Collect(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        HashSet<Guid>? tenants = null;
        foreach (var entry in context.ChangeTracker.Entries())
        {
            if (entry.State is not (EntityState.Added or EntityState.Modified or EntityState.Deleted))
            {
                continue;
            }

            Guid? tenant = entry.Entity switch
            {
                Tenant t => t.Id,
                AuditEntry or AdminSession or ApiToken or Admin or ConfigBundle or TransactionLogEntry or Updates.Rollout or Updates.UpdateReport => null,
                ITenantOwned owned => owned.TenantId,
                _ => null,
            };
            if (tenant is { } id)
            {
                (tenants ??= _pending.GetValue(context, static _ => [])).Add(id);
            }
        }
    }

    private void FlushUnlessInTransaction(DbContext? context)
    {
        if (context?.Database.CurrentTransaction is null)
        {
            Flush(context);
        }
    }

    private void Flush(DbContext? context)
    {
        if (context is null || !_pending.TryGetValue(context, out var tenants))
        {
            return;
        }

        _pending.Remove(context);
        foreach (var tenant in tenants)
        {
            publisher.Signal(tenant);
        }
    }

    private void Discard(DbContext? context)
    {
        if (context is not null)
        {
            _pending.Remove(context);
        }
    }
}
