using Gatehouse.Portal.Hosting;
using System.Collections.Concurrent;
using System.Data;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Gatehouse.Portal.Dr;
using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tenants;
using Gatehouse.Trust.Bundles;
using Gatehouse.Trust.Secrets;
using Gatehouse.Wire.Config;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Config;

/// <summary>
/// Builds, signs, stores and serves the config bundles of every tenant.
/// <code>
/// SaveChanges ─► ConfigChangeInterceptor ─► Signal(tenant) ─► channel
///                                                              │ debounce 100 ms, coalesce per tenant
///                                                              ▼
///   one read snapshot: for each consumer (dr only with DR settings): contributors ─► body
///   for each body: canonical form ─► same hash? skip
///                      ─► version+1 ─► sign (tenant config key) ─► store ─► slot.Publish ─► wake long-pollers
/// </code>
/// Publishing runs on one loop, so versions grow by one per change without locks. Serving reads
/// only memory.
/// </summary>
public sealed class ConfigPublisher(IServiceScopeFactory scopes, SecretProtector secrets, TimeProvider time, PortalMetrics metrics, ILogger<ConfigPublisher> logger)
    : BackgroundService
{
    /// <summary>How long the publisher waits for more changes before it builds.</summary>
    public static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(100);

    private static readonly string[] Consumers = [BundleConsumers.Agent, BundleConsumers.Edge, BundleConsumers.Dr, BundleConsumers.Connector];

    private readonly Channel<Guid> _dirty = Channel.CreateUnbounded<Guid>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<(Guid Tenant, string Consumer), BundleSlot> _slots = new();
    private readonly ConcurrentDictionary<Guid, PublishProgress> _progress = new();
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the stored bundles are in memory.</summary>
    public Task Loaded => _loaded.Task;

    /// <summary>Asks for the tenant's bundles to be rebuilt soon; cheap and safe to call often.</summary>
    public void Signal(Guid tenantId)
    {
        // Counted before queued: a build that reads the count after this sees the change in the database.
        Progress(tenantId).Request();
        _dirty.Writer.TryWrite(tenantId);
    }

    /// <summary>
    /// Waits until every change signalled for the tenant before this call has been through a build
    /// (published, or found to change nothing, or failed), or the timeout passes. Readers that must
    /// see what an admin just saved (the policy explain view) call this before <see cref="CurrentAsync"/>.
    /// </summary>
    public async Task SettledAsync(Guid tenantId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var progress = Progress(tenantId);
        var target = progress.Requested;
        var deadline = time.GetUtcNow() + timeout;
        while (true)
        {
            // The signal is read before the count: a build finishing in between completes this very signal.
            var advanced = progress.Advanced;
            var left = deadline - time.GetUtcNow();
            if (progress.Done >= target || left <= TimeSpan.Zero)
            {
                return;
            }

            await advanced.WaitAsync(left, time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>The slot of one tenant and consumer.</summary>
    public BundleSlot Slot(Guid tenantId, string consumer) => _slots.GetOrAdd((tenantId, consumer), static _ => new BundleSlot());

    /// <summary>The bundle in force, publishing it first if the tenant has none yet; null if that fails in time.</summary>
    public async Task<PublishedBundle?> CurrentAsync(Guid tenantId, string consumer, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var slot = Slot(tenantId, consumer);
        if (slot.Current is { } current)
        {
            return current;
        }

        await Loaded.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var changed = slot.Changed;
        if (slot.Current is null)
        {
            Signal(tenantId);
            await changed.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return slot.Current;
    }

    /// <summary>Waits until a bundle other than <paramref name="known"/> is in force, or the timeout passes; returns the one in force.</summary>
    public async Task<PublishedBundle> WaitForChangeAsync(Guid tenantId, string consumer, PublishedBundle known, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(known);
        var slot = Slot(tenantId, consumer);
        // The signal is read before the bundle: a publication in between completes this very signal.
        var changed = slot.Changed;
        if (slot.Current is { } current && current.Version != known.Version)
        {
            return current;
        }

        await changed.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        cancellationToken.ThrowIfCancellationRequested();
        return slot.Current ?? known;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await LoadAsync(stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            ConfigLog.LoadFailed(logger, e);
        }
        finally
        {
            _loaded.TrySetResult();
        }

        var tenants = new HashSet<Guid>();
        while (await _dirty.Reader.WaitToReadAsync(stoppingToken))
        {
            await Task.Delay(Debounce, time, stoppingToken);
            while (_dirty.Reader.TryRead(out var tenant))
            {
                tenants.Add(tenant);
            }

            foreach (var tenant in tenants)
            {
                var progress = Progress(tenant);
                var through = progress.Requested;
                try
                {
                    await PublishTenantAsync(tenant, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    ConfigLog.PublishFailed(logger, tenant, e);
                }

                progress.Complete(through);
            }

            tenants.Clear();
        }
    }

    /// <summary>Puts the stored bundles in memory and queues every tenant, so that bundles missing or built by older code are (re)published.</summary>
    private async Task LoadAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        await foreach (var row in db.Set<ConfigBundle>().IgnoreQueryFilters().AsNoTracking().AsAsyncEnumerable().WithCancellation(ct))
        {
            Slot(row.TenantId, row.Consumer).Publish(new PublishedBundle(row.Version, row.Document, row.BodySha256));
        }

        await foreach (var tenant in db.Tenants.AsNoTracking().Select(t => t.Id).AsAsyncEnumerable().WithCancellation(ct))
        {
            Signal(tenant);
        }
    }

    private async Task PublishTenantAsync(Guid tenantId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var contributors = scope.ServiceProvider.GetServices<IBundleContributor>().ToList();
        var tenant = await db.Tenants.AsNoTracking().FirstOrDefaultAsync(t => t.Id == tenantId, ct);
        if (tenant is null)
        {
            return;
        }

        var bodies = await BuildBodiesAsync(db, contributors, tenantId, ct);
        BundleSigningKey? key = null;
        try
        {
            foreach (var (consumer, body) in bodies)
            {
                var hash = Convert.ToHexStringLower(SHA256.HashData(Trust.CanonicalJson.CanonicalJson.Serialize(body)));
                var slot = Slot(tenantId, consumer);
                if (slot.Current?.BodySha256 == hash)
                {
                    continue;
                }

                key ??= LoadKey(tenant);
                var row = await db.Set<ConfigBundle>().IgnoreQueryFilters().FirstOrDefaultAsync(b => b.TenantId == tenantId && b.Consumer == consumer, ct);
                var version = Math.Max(slot.Current?.Version ?? 0, row?.Version ?? 0) + 1;
                var now = time.GetUtcNow();
                var document = BundleSigner.Sign(new BundleHeader(tenantId.ToString(), consumer, version, now, null), body, key);
                if (row is null)
                {
                    db.Set<ConfigBundle>().Add(new ConfigBundle
                    {
                        Id = Guid.CreateVersion7(now),
                        TenantId = tenantId,
                        Consumer = consumer,
                        Version = version,
                        Document = document,
                        BodySha256 = hash,
                        CreatedAt = now,
                    });
                }
                else
                {
                    row.Version = version;
                    row.Document = document;
                    row.BodySha256 = hash;
                    row.CreatedAt = now;
                }

                await db.SaveChangesAsync(ct);
                slot.Publish(new PublishedBundle(version, document, hash));
                ConfigLog.Published(logger, tenantId, consumer, version);
                metrics.BundlePublished(consumer);
            }
        }
        finally
        {
            key?.Dispose();
        }
    }

    /// <summary>
    /// The body of each of the tenant's consumers, all read from one snapshot of the database: a change committed
    /// while the contributors read (a device revoked) is in every body or in none, never in one contributor's part
    /// and not in another's (revoked, and still listed among the active devices). The DR bundle is built only for
    /// a tenant that has set up disaster recovery.
    /// </summary>
    private static async Task<List<(string Consumer, JsonObject Body)>> BuildBodiesAsync(PortalDbContext db, List<IBundleContributor> contributors, Guid tenantId, CancellationToken ct)
    {
        var bodies = new List<(string, JsonObject)>(Consumers.Length);
        await using var snapshot = await db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        var hasDr = await DrSettings.ExistForAsync(db, tenantId, ct);
        foreach (var consumer in Consumers)
        {
            if (consumer == BundleConsumers.Dr && !hasDr)
            {
                continue;
            }

            var body = new JsonObject();
            foreach (var contributor in contributors)
            {
                await contributor.ContributeAsync(db, tenantId, consumer, body, ct);
            }

            bodies.Add((consumer, body));
        }

        await snapshot.CommitAsync(ct);
        return bodies;
    }

    private PublishProgress Progress(Guid tenantId) => _progress.GetOrAdd(tenantId, static _ => new PublishProgress());

    /// <summary>How many changes of one tenant were signalled, and through which one the bundles are built.</summary>
    private sealed class PublishProgress
    {
        private long _requested;
        private long _done;
        private TaskCompletionSource _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long Requested => Interlocked.Read(ref _requested);

        public long Done => Interlocked.Read(ref _done);

        /// <summary>Completes when <see cref="Done"/> grows.</summary>
        public Task Advanced => Volatile.Read(ref _advanced).Task;

        public void Request() => Interlocked.Increment(ref _requested);

        /// <summary>Called by the publishing loop only, so there is one writer.</summary>
        public void Complete(long through)
        {
            if (through <= Done)
            {
                return;
            }

            Interlocked.Exchange(ref _done, through);
            Interlocked.Exchange(ref _advanced, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    private BundleSigningKey LoadKey(Tenant tenant)
    {
        var pkcs8 = secrets.Unprotect(tenant.ConfigKeyProtected, TenantProvisioner.ConfigKeyPurpose);
        try
        {
            return BundleSigningKey.FromPkcs8(pkcs8);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }
}
