using System.Globalization;
using System.Text;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Policy.Compilation;

/// <summary>
/// A rule's schedule, resolved: the days as a bit mask (bit 0 = Sunday, as <see cref="DayOfWeek"/>),
/// the window [from, to) as times of day, and the zone. The day is the local day in that zone.
/// </summary>
internal sealed class CompiledSchedule
{
    private static readonly string[] DayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

    private CompiledSchedule(int days, TimeSpan from, TimeSpan to, TimeZoneInfo zone, string text)
    {
        Days = days;
        From = from;
        To = to;
        Zone = zone;
        Text = text;
    }

    public int Days { get; }

    public TimeSpan From { get; }

    public TimeSpan To { get; }

    public TimeZoneInfo Zone { get; }

    /// <summary>As people read it: <c>mon-fri 08:00-18:00 Europe/Paris</c>.</summary>
    public string Text { get; }

    public bool Contains(DateTimeOffset time)
    {
        var local = TimeZoneInfo.ConvertTime(time, Zone);
        var tod = local.TimeOfDay;
        return (Days & (1 << (int)local.DayOfWeek)) != 0 && tod >= From && tod < To;
    }

    /// <summary>The local day and time of <paramref name="time"/> in this schedule's zone (<c>sat 10:42</c>).</summary>
    public string Local(DateTimeOffset time)
    {
        var local = TimeZoneInfo.ConvertTime(time, Zone);
        return $"{DayNames[(int)local.DayOfWeek]} {local.ToString("HH:mm", CultureInfo.InvariantCulture)}";
    }

    public static CompiledSchedule? TryCompile(PolicySchedule schedule, out string field, out string reason)
    {
        field = "criteria.schedule";
        reason = "";
        if (schedule.Days is null || schedule.Days.Count == 0)
        {
            (field, reason) = ("criteria.schedule.days", "a schedule must name at least one day (mon, tue, wed, thu, fri, sat, sun)");
            return null;
        }

        var days = 0;
        for (var i = 0; i < schedule.Days.Count; i++)
        {
            var day = Array.IndexOf(DayNames, schedule.Days[i]?.Trim().ToLowerInvariant());
            if (day < 0)
            {
                (field, reason) = ($"criteria.schedule.days[{i}]", $"'{schedule.Days[i]}' is not a day (mon, tue, wed, thu, fri, sat, sun)");
                return null;
            }

            days |= 1 << day;
        }

        if (!TryTime(schedule.From, out var from))
        {
            (field, reason) = ("criteria.schedule.from", $"'{schedule.From}' is not a time of day as HH:mm");
            return null;
        }

        if (!TryTime(schedule.To, out var to))
        {
            (field, reason) = ("criteria.schedule.to", $"'{schedule.To}' is not a time of day as HH:mm");
            return null;
        }

        if (from >= to)
        {
            (field, reason) = ("criteria.schedule.to", $"the window must end after it starts ({schedule.From}-{schedule.To}); a window does not cross midnight");
            return null;
        }

        var zoneId = string.IsNullOrWhiteSpace(schedule.TimeZone) ? "UTC" : schedule.TimeZone.Trim();
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(zoneId, out var zone))
        {
            (field, reason) = ("criteria.schedule.timeZone", $"'{schedule.TimeZone}' is not a known IANA time zone");
            return null;
        }

        return new CompiledSchedule(days, from, to, zone, $"{DaysText(days)} {Hm(from)}-{Hm(to)} {zoneId}");
    }

    private static bool TryTime(string? text, out TimeSpan time)
    {
        time = default;
        if (!TimeOnly.TryParseExact(text?.Trim(), "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
        {
            return false;
        }

        time = parsed.ToTimeSpan();
        return true;
    }

    private static string Hm(TimeSpan time) => time.ToString(@"hh\:mm", CultureInfo.InvariantCulture);

    // Monday-first runs of consecutive days: "mon-fri", "mon,wed,sat-sun".
    private static string DaysText(int days)
    {
        var text = new StringBuilder();
        var order = new[] { 1, 2, 3, 4, 5, 6, 0 };
        for (var i = 0; i < order.Length; i++)
        {
            if ((days & (1 << order[i])) == 0)
            {
                continue;
            }

            var j = i;
            while (j + 1 < order.Length && (days & (1 << order[j + 1])) != 0)
            {
                j++;
            }

            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(DayNames[order[i]]);
            if (j > i)
            {
                text.Append('-').Append(DayNames[order[j]]);
            }

            i = j;
        }

        return text.ToString();
    }
}
