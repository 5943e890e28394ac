using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Gatehouse.Cli.Output;

namespace Gatehouse.Cli.Commands;

/// <summary>
/// The plumbing every command shares: global options, <c>--json</c> and <c>--limit</c>, the
/// action wrapper that turns failures into <c>error: …</c> and an exit code, and builders for
/// the verbs most nouns have (list, delete).
/// </summary>
internal sealed class CliApp(CliEnvironment environment, TimeProvider time)
{
    /// <summary>The process's streams and environment.</summary>
    public CliEnvironment Environment { get; } = environment;

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; } = time;

    /// <summary><c>--portal URL</c>, on every command.</summary>
    public Option<string> Portal { get; } = new("--portal")
    {
        Description = "The portal's URL (else GATEHOUSE_PORTAL, else the one from `gatehouse login`)",
        Recursive = true,
        HelpName = "URL",
    };

    /// <summary><c>--ca-file PATH</c>, on every command.</summary>
    public Option<string> CaFile { get; } = new("--ca-file")
    {
        Description = "PEM file of the certificate or CA to trust for the portal, and nothing else (else GATEHOUSE_CA_FILE)",
        Recursive = true,
        HelpName = "PATH",
    };

    /// <summary><c>--insecure</c>, on every command.</summary>
    public Option<bool> Insecure { get; } = new("--insecure")
    {
        Description = "Do not verify the portal's TLS certificate (unsafe)",
        Recursive = true,
    };

    private readonly Dictionary<Command, Option<bool>> _json = [];
    private readonly Dictionary<Command, Option<int?>> _limit = [];

    /// <summary>A noun: singular name, plural alias.</summary>
    public static Command Noun(string name, string plural, string description)
    {
        var noun = new Command(name, description);
        noun.Aliases.Add(plural);
        return noun;
    }

    /// <summary>Adds <c>--json</c> to a command that prints data.</summary>
    public Command WithJson(Command command)
    {
        var json = new Option<bool>("--json") { Description = "Print the portal's JSON (stable, for scripts)" };
        command.Options.Add(json);
        _json[command] = json;
        return command;
    }

    /// <summary>Whether <c>--json</c> was given to the command being run.</summary>
    public bool JsonOf(ParseResult parse) => _json.TryGetValue(parse.CommandResult.Command, out var json) && parse.GetValue(json);

    /// <summary><c>--limit N</c> of the command being run, if it has one.</summary>
    public int? LimitOf(ParseResult parse) => _limit.TryGetValue(parse.CommandResult.Command, out var limit) ? parse.GetValue(limit) : null;

    /// <summary>Sets the command's action: runs the body, maps failures to exit codes.</summary>
    public Command Action(Command command, Func<Invocation, Task> body)
    {
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            using var invocation = new Invocation(this, parse, ct);
            try
            {
                await body(invocation);
                return ExitCodes.Ok;
            }
            catch (CliException e)
            {
                Environment.Stderr.WriteLine(e.Field is null ? $"error: {e.Message}" : $"error: {e.Message} (field: {e.Field})");
                return e.ExitCode;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A local file or folder (--output, --dir, FILE) that cannot be read or written.
                Environment.Stderr.WriteLine($"error: {e.Message}");
                return ExitCodes.BadInput;
            }
            catch (System.Text.Json.JsonException e)
            {
                Environment.Stderr.WriteLine($"error: the portal's answer does not have the expected shape: {e.Message}");
                return ExitCodes.Failed;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Environment.Stderr.WriteLine("error: cancelled");
                return ExitCodes.Failed;
            }
        });
        return command;
    }

    /// <summary>
    /// The parser of a count option (<c>--limit</c>): a whole number of at least 1, else an error that says so in those
    /// words (not the parser's "expected type System.Nullable`1[System.Int32]").
    /// </summary>
    public static int? Count(ArgumentResult result)
    {
        var text = result.Tokens is [{ Value: var token }] ? token : string.Empty;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count >= 1)
        {
            return count;
        }

        result.AddError($"{(result.Parent as OptionResult)?.IdentifierToken?.Value ?? "the count"} takes a whole number of at least 1, not '{text}'");
        return null;
    }

    /// <summary>A value a command validator reads, or the default when the parser could not convert it (and reports that itself).</summary>
    public static T? ValueOrDefault<T>(CommandResult result, Option<T> option)
    {
        try
        {
            return result.GetValue(option);
        }
        catch (InvalidOperationException)
        {
            return default;
        }
    }

    /// <summary>
    /// A <c>list</c> verb over a paged listing: every page is fetched (or <c>--limit</c> items),
    /// printed as a table or, with <c>--json</c>, as one JSON array.
    /// </summary>
    public Command List<T>(string description, Func<Invocation, string> path, Func<Table> header, Action<Table, T> row, params Option[] filters) =>
        List<T>(description, path, header, _ => Task.FromResult(row), filters);

    /// <summary>
    /// As <see cref="List{T}(string, Func{Invocation, string}, Func{Table}, Action{Table, T}, Option[])"/>, with rows that
    /// need something fetched first (the names that ids stand for): <paramref name="rowFor"/> fetches it and gives the row.
    /// </summary>
    public Command List<T>(string description, Func<Invocation, string> path, Func<Table> header, Func<Invocation, Task<Action<Table, T>>> rowFor, params Option[] filters)
    {
        var list = WithJson(new Command("list", description));
        var limit = new Option<int?>("--limit") { Description = "Stop after N items", HelpName = "N", CustomParser = Count };
        list.Options.Add(limit);
        _limit[list] = limit;
        foreach (var filter in filters)
        {
            list.Options.Add(filter);
        }
        return Action(list, async run =>
        {
            var items = await run.ListAsync<T>(path(run));
            run.Out.List(items, header, run.Out.Json ? (_, _) => { } : await rowFor(run));
        });
    }

    /// <summary>A verb that deletes (or revokes) one object by id: <c>DELETE {collection}/{id}</c>.</summary>
    public Command Delete(string verb, string description, string collection, string what)
    {
        var id = new Argument<Guid>("ID") { Description = $"The {what}'s id" };
        var command = new Command(verb, description) { id };
        return Action(command, async run =>
        {
            var target = run.Get(id);
            await run.Client.SendAsync(HttpMethod.Delete, $"{collection}/{target}", null, run.Cancellation);
            run.Environment.Stdout.WriteLine($"{what} {target} {(verb == "delete" ? "deleted" : "revoked")}");
        });
    }

    /// <summary>
    /// <c>revoke ID [--json]</c> of an enrolled party (device, edge, connector): <c>POST COLLECTION/ID/revoke</c>,
    /// then "WHAT NAME (ID) revoked", or the portal's JSON.
    /// </summary>
    public Command Revoke<T>(string description, string collection, string what, Func<T, string> name)
    {
        var id = new Argument<Guid>("ID") { Description = $"The {what}'s id" };
        return Action(WithJson(new Command("revoke", description) { id }), async run =>
            run.Out.One(await run.Client.SendAsync<T>(HttpMethod.Post, $"{collection}/{run.Get(id)}/revoke", null, run.Cancellation),
                (w, revoked) => w.WriteLine($"{what} {name(revoked)} ({run.Get(id)}) revoked")));
    }

    /// <summary>A query string from the values given; absent ones are left out.</summary>
    public static string Query(string path, params (string Name, object? Value)[] parameters)
    {
        var given = parameters
            .Where(p => p.Value is not null and not "")
            .Select(p => $"{p.Name}={Uri.EscapeDataString(Convert.ToString(p.Value, CultureInfo.InvariantCulture)!)}")
            .ToList();
        return given.Count == 0 ? path : $"{path}?{string.Join('&', given)}";
    }
}
