using System.CommandLine.Parsing;
using System.Globalization;

namespace Gatehouse.Cli.Output;

/// <summary>How the CLI writes a time: always in UTC, for people or for the portal's query strings.</summary>
internal static class Times
{
    /// <summary>For people, to the minute, as tables show dates: <c>2026-12-06 10:13Z</c>.</summary>
    public static string ToTheMinute(DateTimeOffset at) =>
        at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture);

    /// <summary>For people, to the second, where events follow each other closely: <c>2026-12-06 10:13:21Z</c>.</summary>
    public static string ToTheSecond(DateTimeOffset at) =>
        at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>For a query string: ISO 8601 in UTC, exact to the tick; null stays null (the parameter is left out).</summary>
    public static string? Iso(DateTimeOffset? at) => at?.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    /// <summary>
    /// Parses an option's ISO 8601 time, in UTC unless it names a zone (as the tables print times), whatever the
    /// machine's zone; anything else is the option's usage error.
    /// </summary>
    public static DateTimeOffset? ParseOption(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value.Trim() : "";
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return at;
        }

        var option = (result.Parent as OptionResult)?.Option.Name ?? "the time";
        result.AddError($"{option} takes an ISO 8601 time such as 2026-11-22T10:00:00Z; got '{text}'");
        return null;
    }
}
