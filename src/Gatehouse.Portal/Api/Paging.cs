using System.Linq.Expressions;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Api;

/// <summary>
/// Keyset pagination over time-ordered (UUID v7) ids: a page costs the same at row 100,000 as at
/// row 0, and rows inserted meanwhile never shift a listing.
/// </summary>
public static class Paging
{
    /// <summary>Rows per page unless the caller asks.</summary>
    public const int DefaultLimit = 50;

    /// <summary>The most rows one page may hold.</summary>
    public const int MaxLimit = 500;

    /// <summary>Reads one page ordered by <paramref name="key"/>, starting after <paramref name="cursor"/>.</summary>
    public static Task<Page<TDto>> PageAsync<TEntity, TDto>(
        this IQueryable<TEntity> query,
        Expression<Func<TEntity, Guid>> key,
        string? cursor,
        int? limit,
        Func<TEntity, TDto> map,
        CancellationToken cancellationToken) =>
        ReadPageAsync(query, key, cursor, limit, map, newestFirst: false, cancellationToken);

    /// <summary>
    /// Reads one page in descending <paramref name="key"/> order (newest first, for UUID v7 keys), starting
    /// after <paramref name="cursor"/>: rows arriving meanwhile land before the first page, never inside a listing.
    /// </summary>
    public static Task<Page<TDto>> PageNewestFirstAsync<TEntity, TDto>(
        this IQueryable<TEntity> query,
        Expression<Func<TEntity, Guid>> key,
        string? cursor,
        int? limit,
        Func<TEntity, TDto> map,
        CancellationToken cancellationToken) =>
        ReadPageAsync(query, key, cursor, limit, map, newestFirst: true, cancellationToken);

    private static async Task<Page<TDto>> ReadPageAsync<TEntity, TDto>(
        IQueryable<TEntity> query,
        Expression<Func<TEntity, Guid>> key,
        string? cursor,
        int? limit,
        Func<TEntity, TDto> map,
        bool newestFirst,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(map);
        var take = limit ?? DefaultLimit;
        if (take is < 1 or > MaxLimit)
        {
            throw PortalException.Invalid("limit", $"limit must be between 1 and {MaxLimit}.");
        }

        if (!string.IsNullOrEmpty(cursor))
        {
            query = query.Where(After(key, DecodeCursor(cursor), newestFirst));
        }

        var ordered = newestFirst ? query.OrderByDescending(key) : query.OrderBy(key);
        var rows = await ordered.Take(take + 1).ToListAsync(cancellationToken);
        var more = rows.Count > take;
        if (more)
        {
            rows.RemoveAt(take);
        }

        var next = more ? EncodeCursor(ReadKey(key, rows[^1])) : null;
        return new Page<TDto>(rows.Select(map).ToList(), next);
    }

    /// <summary>Reads the key of the last row through its property, without compiling the expression per call.</summary>
    private static Guid ReadKey<TEntity>(Expression<Func<TEntity, Guid>> key, TEntity row) =>
        key.Body is MemberExpression { Member: System.Reflection.PropertyInfo property } && property.DeclaringType!.IsAssignableFrom(typeof(TEntity))
            ? (Guid)property.GetValue(row)!
            : key.Compile()(row);

    /// <summary>
    /// Builds <c>e =&gt; key(e).CompareTo(after) &gt; 0</c> (or <c>&lt; 0</c> newest first), which both engines
    /// translate to <c>id &gt; @after</c> (<c>id &lt; @after</c>).
    /// </summary>
    private static Expression<Func<TEntity, bool>> After<TEntity>(Expression<Func<TEntity, Guid>> key, Guid after, bool newestFirst)
    {
        var compare = Expression.Call(key.Body, typeof(Guid).GetMethod(nameof(Guid.CompareTo), [typeof(Guid)])!, Expression.Constant(after));
        var zero = Expression.Constant(0);
        return Expression.Lambda<Func<TEntity, bool>>(newestFirst ? Expression.LessThan(compare, zero) : Expression.GreaterThan(compare, zero), key.Parameters);
    }

    private static string EncodeCursor(Guid id) => Convert.ToBase64String(id.ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static Guid DecodeCursor(string cursor)
    {
        try
        {
            var base64 = cursor.Replace('-', '+').Replace('_', '/') + "==";
            var bytes = Convert.FromBase64String(base64);
            return bytes.Length == 16 ? new Guid(bytes) : throw new FormatException();
        }
        catch (FormatException)
        {
            throw PortalException.Invalid("cursor", "cursor is not one this portal handed out.");
        }
    }
}
