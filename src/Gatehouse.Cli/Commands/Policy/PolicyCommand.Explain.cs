using System.CommandLine;
using System.Globalization;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Cli.Commands.Policy;

internal static partial class PolicyCommand
{
    /// <summary><c>gatehouse policy explain</c>: how the tenant's edges decide one flow, rule by rule.</summary>
    private static Command Explain(CliApp app)
    {
        var user = new Option<string>("--user") { Description = "The user's email", HelpName = "EMAIL" };
        var groups = new Option<string[]>("--group") { Description = "A group the flow carries (default: the user's); repeat for several", HelpName = "NAME" };
        var posture = new Option<string[]>("--posture") { Description = "A posture check that holds; repeat for several", HelpName = "CHECK" };
        var network = new Option<string>("--network") { Description = "The network the device is on", HelpName = "KIND" };
        network.AcceptOnlyFromAmong([.. NetworkKinds.All]);
        var time = new Option<DateTimeOffset?>("--time") { Description = "When the flow starts (default: now)", HelpName = "ISO8601" };
        var host = new Option<string>("--host") { Description = "The destination host name", HelpName = "HOST" };
        var ip = new Option<string>("--ip") { Description = "The destination address", HelpName = "IP" };
        var port = new Option<int?>("--port") { Description = "The destination port", HelpName = "N" };
        var protocol = new Option<string>("--protocol") { Description = "The protocol", HelpName = "PROTOCOL" };
        protocol.AcceptOnlyFromAmong([.. PolicyProtocols.All]);
        var url = new Option<string>("--url") { Description = "The absolute URL of an HTTP request", HelpName = "URL" };

        var command = new Command("explain", "Show which rule the edges apply to a flow, and why each earlier rule did not match")
        {
            user, groups, posture, network, time, host, ip, port, protocol, url,
        };
        return app.Action(app.WithJson(command), async run =>
        {
            var request = new PolicyExplainRequest(
                run.Get(user),
                run.Get(groups) is { Length: > 0 } g ? g : null,
                run.Get(posture) is { Length: > 0 } p ? p : null,
                run.Get(network),
                run.Get(time),
                run.Get(host),
                run.Get(ip),
                run.Get(port),
                run.Get(protocol),
                run.Get(url));
            var answer = await run.Client.SendAsync<PolicyExplainResponse>(HttpMethod.Post, "policy/explain", request, run.Cancellation);
            run.Out.One(answer, Describe);
        });
    }

    /// <summary>The decision line, then one line per rule looked at.</summary>
    private static void Describe(TextWriter writer, PolicyExplainResponse answer)
    {
        var category = answer.Category is null ? "" : $" (category {answer.Category})";
        writer.WriteLine(answer.RuleIndex >= 0
            ? string.Create(CultureInfo.InvariantCulture, $"{answer.Action} by rule {answer.RuleIndex} '{answer.RuleName}'{category}")
            : $"{answer.Action}: {answer.Summary}{category}");
        foreach (var rule in answer.Rules)
        {
            writer.WriteLine(rule.Matched
                ? string.Create(CultureInfo.InvariantCulture, $"  #{rule.Index} {rule.Name}: yes")
                : string.Create(CultureInfo.InvariantCulture, $"  #{rule.Index} {rule.Name}: no — {rule.Reason}"));
        }
    }
}
