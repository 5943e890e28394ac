using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;
using Gatehouse.Cli.Output;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Cli.Commands.Logs;

/// <summary>
/// <c>gatehouse logs query</c>: the transaction logs edges ship, newest first, as a table or as JSON lines
/// (one record a line, for <c>jq</c> and log tools).
/// </summary>
internal static partial class LogsCommand
{
    /// <summary>How many records a query prints unless <c>--limit</c> says otherwise.</summary>
    public const int DefaultLimit = 100;

    private static readonly string[] Actions =
    [
        TransactionActions.Allow, TransactionActions.Block, TransactionActions.Caution,
        TransactionActions.CautionContinued, TransactionActions.Denied, TransactionActions.Error,
    ];

    public static Command Build(CliApp app)
    {
        var logs = CliApp.Noun("logs", "log", "Transaction logs: one record per flow or HTTP request the edges saw");

        var since = new Option<TimeSpan?>("--since") { Description = "Only the last while: 90s, 30m, 1h, 7d", HelpName = "DURATION", CustomParser = ParseDuration };
        var from = new Option<DateTimeOffset?>("--from") { Description = "Only records at or after this time (ISO 8601; UTC unless a zone is given)", HelpName = "ISO8601", CustomParser = Times.ParseOption };
        var to = new Option<DateTimeOffset?>("--to") { Description = "Only records before this time (ISO 8601; UTC unless a zone is given)", HelpName = "ISO8601", CustomParser = Times.ParseOption };
        var user = new Option<string>("--user") { Description = "Only this user's records (email or id)", HelpName = "EMAIL_OR_ID" };
        var action = new Option<string>("--action") { Description = "Only records with this outcome", HelpName = "ACTION" };
        action.AcceptOnlyFromAmong(Actions);
        var host = new Option<string>("--host") { Description = "Only this host name or address (a flow's TLS server name counts); .example.com or *.example.com: every name below example.com", HelpName = "HOST", CustomParser = ParseHost };
        var limit = new Option<int>("--limit") { Description = "Print at most N records", HelpName = "N", DefaultValueFactory = _ => DefaultLimit, CustomParser = r => CliApp.Count(r) ?? 0 };

        var query = app.WithJson(new Command("query", "Show transaction log records, newest first; --json prints one JSON record a line")
        {
            since, from, to, user, action, host, limit,
        });
        query.Validators.Add(r =>
        {
            if (r.GetResult(since) is not null && r.GetResult(from) is not null)
            {
                r.AddError("--since and --from cannot be given together");
            }
        });
        logs.Subcommands.Add(app.Action(query, async run =>
        {
            var start = run.Get(since) is { } ago ? run.Time.GetUtcNow() - ago : run.Get(from);
            var path = CliApp.Query("logs",
                ("from", Times.Iso(start)), ("to", Times.Iso(run.Get(to))), ("user", run.Get(user)), ("action", run.Get(action)), ("host", run.Get(host)));
            var result = await run.Client.ListAsync<TransactionLogEntryDto>(path, run.Get(limit), run.Cancellation);
            if (run.Out.Json)
            {
                foreach (var record in result.Json!.AsArray())
                {
                    run.Environment.Stdout.WriteLine(record!.ToJsonString());
                }

                return;
            }

            var table = new Table("TIME", "USER", "ACTION", "DESTINATION", "REQUEST", "RULE", "BYTES UP/DOWN");
            foreach (var entry in result.Value)
            {
                var r = entry.Record;
                table.Row(
                    Times.ToTheSecond(r.Time),
                    Printable(r.UserEmail ?? r.UserId),
                    r.Action,
                    Printable(Destination(r)),
                    Printable(r.Url is not null ? $"{r.Method} {r.Url}" : r.Sni is not null ? $"{r.Method} TLS {r.Sni}".TrimStart() : r.Method),
                    Printable(r.Rule),
                    string.Create(CultureInfo.InvariantCulture, $"{r.BytesUp}/{r.BytesDown}"));
            }

            table.WriteTo(run.Environment.Stdout, run.Environment.UseColour);
        }));
        return logs;
    }

    /// <summary>HOST:PORT, an IPv6 address in brackets; none for a request refused before it named one (an unreadable head).</summary>
    private static string? Destination(TransactionLogRecord r) =>
        r.Host.Length == 0 ? null : r.Host.Contains(':', StringComparison.Ordinal) ? $"[{r.Host}]:{r.Port}" : $"{r.Host}:{r.Port}";

    /// <summary>
    /// What edges logged comes from the network: an escape sequence in a URL must not reach the terminal.
    /// The portal refuses control characters already; this keeps an older portal's rows harmless too.
    /// </summary>
    private static string? Printable(string? text) =>
        text is null || !text.Any(char.IsControl) ? text : string.Concat(text.Select(c => char.IsControl(c) ? '?' : c));

    /// <summary>Checks <c>--host</c> as the portal does, so that a host it would refuse never leaves the machine.</summary>
    private static string? ParseHost(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (!TransactionHostFilter.TryParse(text, "--host", out _, out var error))
        {
            result.AddError(error);
            return null;
        }

        return text.Trim();
    }

    private static TimeSpan? ParseDuration(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value.Trim() : "";
        var match = Duration().Match(text);
        if (!match.Success || !int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count == 0)
        {
            result.AddError($"--since takes a duration such as 90s, 30m, 1h or 7d; got '{text}'");
            return null;
        }

        return match.Groups[2].Value switch
        {
            "s" => TimeSpan.FromSeconds(count),
            "m" => TimeSpan.FromMinutes(count),
            "h" => TimeSpan.FromHours(count),
            _ => TimeSpan.FromDays(count),
        };
    }

    [GeneratedRegex("^([0-9]{1,6})([smhd])$")]
    private static partial Regex Duration();
}
