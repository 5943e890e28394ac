using System.Globalization;
using Gatehouse.Portal.Api;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Logs;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Logs;

/// <summary>
/// <c>GET /logs</c>: the tenant's transaction logs, newest first, in keyset pages. Readable by every admin
/// role that may read the audit log.
/// </summary>
internal static class TransactionLogEndpoints
{
    public static RouteGroupBuilder MapTransactionLogs(this RouteGroupBuilder api)
    {
        api.MapGet("/logs", ListAsync).WithTags("logs");
        return api;
    }

    /// <summary>
    /// Every parameter is optional: <c>from</c> (inclusive) and <c>to</c> (exclusive) are ISO 8601 times;
    /// <c>user</c> is a user id or an email (any case); <c>action</c> one of <see cref="TransactionActions"/>;
    /// <c>host</c> as <see cref="TransactionHostFilter"/> reads it: a host name or an address, or with a leading dot
    /// (<c>.example.com</c>, or <c>*.example.com</c> as policy writes it) every name below that domain; a flow's TLS
    /// server name counts as its host too. Parameters are taken as text so that a bad value is refused naming the
    /// parameter; a host given empty is refused, not taken for no filter.
    /// </summary>
    private static async Task<Page<TransactionLogEntryDto>> ListAsync(
        PortalDbContext db, string? from, string? to, string? user, string? action, string? host, string? limit, string? cursor, CancellationToken ct)
    {
        var query = db.Set<TransactionLogEntry>().AsNoTracking();
        var since = Time(from, "from");
        var until = Time(to, "to");
        if (since is { } start && until is { } end && end <= start)
        {
            throw PortalException.Invalid("to", "to must be later than from.");
        }

        query = query.WhereTime(since, until, afterCursor: !string.IsNullOrEmpty(cursor));

        if (!string.IsNullOrWhiteSpace(user))
        {
            var who = user.Trim();
            if (Guid.TryParse(who, out var userId))
            {
                query = query.Where(e => e.UserId == userId);
            }
            else
            {
                // Stored lower case, so an equality (and its index) does the case-insensitive match.
                var email = who.ToLowerInvariant();
                query = query.Where(e => e.UserEmail == email);
            }
        }

        if (!string.IsNullOrWhiteSpace(action))
        {
            var wanted = Validate.OneOf(action.Trim(), "action", TransactionLogValidator.Actions);
            query = query.Where(e => e.Action == wanted);
        }

        if (host is not null)
        {
            query = query.WhereHost(TransactionHostFilter.TryParse(host, "host", out var filter, out var error) ? filter : throw PortalException.Invalid("host", error));
        }

        return await query.PageNewestFirstAsync(e => e.Id, cursor, Limit(limit), e => e.ToDto(), ct);
    }

    /// <summary>Records at or after <paramref name="since"/> and before <paramref name="until"/>, either of them open.</summary>
    /// <remarks>
    /// The same range is given as ids too (<see cref="TransactionLogIds"/>): SQLite without statistics planned
    /// <c>Time &gt;= @from</c> on the index on time and sorted every record since then to return the newest page
    /// (14 s for an hour of 6 million records); with the ids' range it walks the id index newest first and stops.
    /// </remarks>
    /// <param name="query">The records.</param>
    /// <param name="since">The earliest time, included.</param>
    /// <param name="until">The time the records must be before.</param>
    /// <param name="afterCursor">
    /// Whether the page starts after a cursor: the cursor's id, a record's from before <paramref name="until"/>, then bounds
    /// the ids from above already, and a second bound of the same kind made SQLite walk the id index where a user's,
    /// a host's or an action's was narrower.
    /// </param>
    internal static IQueryable<TransactionLogEntry> WhereTime(this IQueryable<TransactionLogEntry> query, DateTimeOffset? since, DateTimeOffset? until, bool afterCursor)
    {
        if (since is { } from)
        {
            var lowest = TransactionLogIds.LowestFrom(from);
            query = query.Where(e => e.Time >= from && e.Id.CompareTo(lowest) >= 0);
        }

        if (until is { } to)
        {
            query = query.Where(e => e.Time < to);
            if (!afterCursor && TransactionLogIds.AboveAllBefore(to) is { } above)
            {
                query = query.Where(e => e.Id.CompareTo(above) < 0);
            }
        }

        return query;
    }

    /// <summary>Records whose host or TLS server name is the filter's host, or lies below its domain.</summary>
    /// <remarks>
    /// The exact form is two lookups, one on the host's index and one on the server name's, each already in page
    /// order, that the engine merges and stops after a page. <c>Host = h OR Sni = h</c> said the same, but SQLite
    /// without statistics (a portal never runs ANALYZE) planned it as a walk through all of the tenant's records.
    /// A name below a domain cannot be looked up in an index on names; that form walks the records newest first.
    /// </remarks>
    internal static IQueryable<TransactionLogEntry> WhereHost(this IQueryable<TransactionLogEntry> query, TransactionHostFilter filter)
    {
        if (filter.IsDomain)
        {
            var suffix = filter.Suffix;
            return query.Where(e => e.Host.EndsWith(suffix) || (e.Sni != null && e.Sni.EndsWith(suffix)));
        }

        var host = filter.Host;
        return query.Where(e => e.Host == host).Concat(query.Where(e => e.Sni == host && e.Host != host));
    }

    private static DateTimeOffset? Time(string? value, string parameter)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return DateTimeOffset.TryParse(value.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
            ? parsed.ToUniversalTime()
            : throw PortalException.Invalid(parameter, $"{parameter} must be an ISO 8601 time such as 2026-11-22T10:00:00Z; got '{value}'.");
    }

    private static int? Limit(string? value) =>
        string.IsNullOrWhiteSpace(value) ? null
        : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) ? limit
        : throw PortalException.Invalid("limit", $"limit must be a number between 1 and {Paging.MaxLimit}; got '{value}'.");
}
