using System.Collections.Concurrent;
using Gatehouse.Portal.Connectors;
using Gatehouse.Portal.Devices;
using Gatehouse.Portal.Edges;
using Gatehouse.Portal.Storage;
using Gatehouse.Trust.Certificates;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Enrollment;

/// <summary>What certificate authentication needs to know about a subject's row.</summary>
public sealed record EnrolledSubjectState(Guid TenantId, string Status, string CertificateSerial);

/// <summary>
/// The status and current serial of devices, edges and connectors, kept for a few seconds so that
/// 10,000 long-polling agents do not cost a query each. Revocation and renewal on this portal
/// invalidate the entry at once; on another portal instance they take effect within
/// <see cref="TimeToLive"/>. Also bounds the LastSeenAt writes to one a minute per subject.
/// </summary>
public sealed class EnrolledSubjectCache(TimeProvider time)
{
    /// <summary>How long a row read is trusted.</summary>
    public static readonly TimeSpan TimeToLive = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan SeenInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<(string Kind, Guid Id), Entry> _entries = new();

    private sealed class Entry(EnrolledSubjectState state, DateTimeOffset loadedAt, DateTimeOffset? lastSeenAt)
    {
        public EnrolledSubjectState State { get; } = state;
        public DateTimeOffset LoadedAt { get; } = loadedAt;
        public long LastSeenTicks = lastSeenAt?.UtcTicks ?? 0;
    }

    /// <summary>The subject's state, from memory when fresh, else from the database; null when no row exists.</summary>
    public async ValueTask<EnrolledSubjectState?> GetAsync(PortalDbContext db, string kind, Guid id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var now = time.GetUtcNow();
        if (_entries.TryGetValue((kind, id), out var entry) && now - entry.LoadedAt < TimeToLive)
        {
            return entry.State;
        }

        var row = kind switch
        {
            IdentityKinds.Device => await LoadAsync<Device>(db, id, cancellationToken),
            IdentityKinds.Edge => await LoadAsync<Edge>(db, id, cancellationToken),
            IdentityKinds.Connector => await LoadAsync<Connector>(db, id, cancellationToken),
            _ => null,
        };
        if (row is null)
        {
            _entries.TryRemove((kind, id), out _);
            return null;
        }

        _entries[(kind, id)] = new Entry(row.Value.State, now, row.Value.LastSeenAt);
        return row.Value.State;
    }

    /// <summary>Records that the subject was seen, writing at most once a minute.</summary>
    public async Task RecordSeenAsync(PortalDbContext db, string kind, Guid id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var now = time.GetUtcNow();
        if (!_entries.TryGetValue((kind, id), out var entry))
        {
            return;
        }

        var last = Interlocked.Read(ref entry.LastSeenTicks);
        if (now.UtcTicks - last < SeenInterval.Ticks || Interlocked.CompareExchange(ref entry.LastSeenTicks, now.UtcTicks, last) != last)
        {
            return;
        }

        // ExecuteUpdate, not SaveChanges: being seen is not a config change and must not wake the publisher.
        _ = kind switch
        {
            IdentityKinds.Device => await TouchAsync<Device>(db, id, now, cancellationToken),
            IdentityKinds.Edge => await TouchAsync<Edge>(db, id, now, cancellationToken),
            IdentityKinds.Connector => await TouchAsync<Connector>(db, id, now, cancellationToken),
            _ => 0,
        };
    }

    /// <summary>Forgets a subject after its status or certificate changed.</summary>
    public void Invalidate(string kind, Guid id) => _entries.TryRemove((kind, id), out _);

    private static async Task<(EnrolledSubjectState State, DateTimeOffset? LastSeenAt)?> LoadAsync<T>(PortalDbContext db, Guid id, CancellationToken ct)
        where T : class, IEnrolledSubject
    {
        var row = await db.Set<T>().IgnoreQueryFilters().AsNoTracking().Where(s => s.Id == id)
            .Select(s => new { s.TenantId, s.Status, s.CertificateSerial, s.LastSeenAt })
            .FirstOrDefaultAsync(ct);
        return row is null ? null : (new EnrolledSubjectState(row.TenantId, row.Status, row.CertificateSerial), row.LastSeenAt);
    }

    private static Task<int> TouchAsync<T>(PortalDbContext db, Guid id, DateTimeOffset now, CancellationToken ct)
        where T : class, IEnrolledSubject =>
        db.Set<T>().IgnoreQueryFilters().Where(s => s.Id == id).ExecuteUpdateAsync(u => u.SetProperty(s => s.LastSeenAt, now), ct);
}
