using System.Buffers.Binary;

namespace Gatehouse.Portal.Logs;

/// <summary>
/// A record's id is a UUID v7 made from the record's own time, so ids sort as the records' times do, to the
/// millisecond. A range of times is then also a range of ids, which the listing's indexes (each ending in the id)
/// walk in page order and stop after a page; the index on time alone would have every record of the range sorted
/// first.
/// </summary>
internal static class TransactionLogIds
{
    /// <summary>The largest millisecond a UUID v7 holds (48 bits).</summary>
    private const long MaxMilliseconds = (1L << 48) - 1;

    /// <summary>The id of a record at <paramref name="time"/>.</summary>
    public static Guid For(DateTimeOffset time) => Guid.CreateVersion7(time);

    /// <summary>The lowest id of a record at or after <paramref name="time"/>: every such id is at least this.</summary>
    public static Guid LowestFrom(DateTimeOffset time) => LowestIn(Math.Max(0, time.ToUnixTimeMilliseconds()));

    /// <summary>
    /// An id above that of every record before <paramref name="time"/> (the lowest id of the millisecond after the
    /// one <paramref name="time"/> falls in), or null when no id is.
    /// </summary>
    public static Guid? AboveAllBefore(DateTimeOffset time)
    {
        var next = time.ToUnixTimeMilliseconds() + 1;
        return next > MaxMilliseconds ? null : LowestIn(Math.Max(0, next));
    }

    /// <summary>The lowest UUID whose 48-bit timestamp is <paramref name="milliseconds"/>: the timestamp, then zeros.</summary>
    private static Guid LowestIn(long milliseconds)
    {
        Span<byte> bytes = stackalloc byte[16];
        bytes.Clear();
        BinaryPrimitives.WriteInt64BigEndian(bytes, milliseconds << 16);
        return new Guid(bytes, bigEndian: true);
    }
}
