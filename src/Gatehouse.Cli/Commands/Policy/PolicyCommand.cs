using System.CommandLine;
using System.Net.Http.Headers;
using Gatehouse.Cli.Connection;
using Gatehouse.Cli.Output;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Cli.Commands.Policy;

/// <summary><c>gatehouse policy export|import|list|explain</c>: the tenant's ordered rules, as one document.</summary>
internal static partial class PolicyCommand
{
    public static Command Build(CliApp app)
    {
        var policy = CliApp.Noun("policy", "policies", "The tenant's policy rules (first match wins)");

        var format = new Option<string>("--format") { Description = "yaml or json", DefaultValueFactory = _ => "yaml" };
        format.AcceptOnlyFromAmong("yaml", "json");
        var output = new Option<FileInfo>("--output") { Description = "Write to this file instead of stdout", HelpName = "FILE" };
        policy.Subcommands.Add(app.Action(new Command("export", "Print the whole policy as a document that `policy import` takes") { format, output }, async run =>
        {
            var document = await run.Client.GetTextAsync(CliApp.Query("policy/export", ("format", run.Get(format))), run.Cancellation);
            if (run.Get(output) is { } file)
            {
                await File.WriteAllTextAsync(file.FullName, document, run.Cancellation);
                run.Environment.Stderr.WriteLine($"policy written to {file.FullName}");
                return;
            }
            run.Environment.Stdout.Write(document.EndsWith('\n') ? document : document + "\n");
        }));

        var source = new Argument<FileInfo>("FILE") { Description = "A policy document: YAML if it ends .yaml or .yml, else JSON" };
        policy.Subcommands.Add(app.Action(app.WithJson(new Command("import", "Replace every rule with the file's, atomically") { source }), async run =>
        {
            var file = run.Require(source);
            byte[] body;
            try
            {
                body = await File.ReadAllBytesAsync(file.FullName, run.Cancellation);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException(ExitCodes.BadInput, $"cannot read {file.FullName}: {e.Message}", inner: e);
            }
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue(IsYaml(file.Name) ? "application/yaml" : "application/json");
            var rules = await run.Client.SendContentAsync<List<PolicyRuleDto>>(HttpMethod.Put, "policy", content, run.Cancellation);
            run.Out.One(rules, (w, r) => w.WriteLine($"policy imported: {r.Count} {(r.Count == 1 ? "rule" : "rules")} in force"));
        }));

        policy.Subcommands.Add(app.Action(app.WithJson(new Command("list", "List the rules in order")), async run =>
        {
            var rules = await run.Client.GetAsync<List<PolicyRuleDto>>("policy", run.Cancellation);
            run.Out.List(new ApiResult<IReadOnlyList<PolicyRuleDto>>(rules.Value, rules.Json),
                () => new Table("ORDER", "NAME", "ACTION", "ENABLED", "ID"),
                (t, r) => t.Row(r.Order, r.Rule.Name, r.Rule.Action, r.Rule.Enabled, r.Id));
        }));

        policy.Subcommands.Add(Explain(app));
        return policy;
    }

    private static bool IsYaml(string name) =>
        name.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);
}
