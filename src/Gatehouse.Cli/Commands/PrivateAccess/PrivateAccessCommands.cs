using System.CommandLine;
using System.Net.Http.Headers;
using Gatehouse.Cli.Connection;
using Gatehouse.Cli.Output;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Cli.Commands.PrivateAccess;

/// <summary>
/// Private access objects: <c>gatehouse app-segment|segment-group|connector-group|server-group list|create|delete</c>
/// and <c>gatehouse access-policy list|import|export</c>.
/// </summary>
internal static class PrivateAccessCommands
{
    public static IEnumerable<Command> Build(CliApp app)
    {
        yield return AppSegments(app);
        yield return NamedGroups<SegmentGroupDto>(app, "segment-group", "segment-groups", "Named sets of app segments, which access rules grant", g => (g.Id, g.Name, g.Description));
        yield return NamedGroups<ConnectorGroupDto>(app, "connector-group", "connector-groups", "Sets of app connectors that serve the same app segments", g => (g.Id, g.Name, g.Description));
        yield return ServerGroups(app);
        yield return AccessPolicy(app);
    }

    private static Command AppSegments(CliApp app)
    {
        var segment = CliApp.Noun("app-segment", "app-segments", "Private applications: domains or networks with ports, served by connector groups");
        segment.Subcommands.Add(app.List<AppSegmentDto>("List app segments", _ => "app-segments",
            () => new Table("ID", "NAME", "DOMAINS", "CIDRS", "PORTS", "ENABLED"),
            (t, s) => t.Row(s.Id, s.Name, string.Join(',', s.Domains), string.Join(',', s.Cidrs), string.Join(',', s.Ports), s.Enabled)));

        var name = new Option<string>("--name") { Description = "The segment's name (access rules name it)", Required = true };
        var domains = new Option<string[]>("--domain") { Description = "A domain, exact or *.wildcard; repeatable" };
        var cidrs = new Option<string[]>("--cidr") { Description = "A network, CIDR; repeatable" };
        var ports = new Option<string[]>("--port") { Description = "A port or range (8000-8080); repeatable", Required = true };
        var segmentGroup = new Option<string>("--segment-group") { Description = "The segment group, by name or id" };
        var connectorGroups = new Option<string[]>("--connector-group") { Description = "A connector group that serves it, by name or id; repeatable" };
        var serverGroups = new Option<string[]>("--server-group") { Description = "A server group whose servers connectors check for it, by name or id; repeatable" };
        var description = new Option<string>("--description") { Description = "Free text" };
        segment.Subcommands.Add(app.Action(app.WithJson(new Command("create", "Create an app segment") { name, domains, cidrs, ports, segmentGroup, connectorGroups, serverGroups, description }), async run =>
        {
            var request = new AppSegmentRequest(
                run.Require(name),
                run.Get(description),
                Domains: run.Get(domains),
                Cidrs: run.Get(cidrs),
                Ports: run.Get(ports),
                SegmentGroupId: run.Get(segmentGroup) is { } group ? await IdAsync<SegmentGroupDto>(run, "segment-groups", "segment group", group, g => (g.Id, g.Name)) : null,
                ConnectorGroupIds: await IdsAsync<ConnectorGroupDto>(run, "connector-groups", "connector group", run.Get(connectorGroups), g => (g.Id, g.Name)),
                ServerGroupIds: await IdsAsync<ServerGroupDto>(run, "server-groups", "server group", run.Get(serverGroups), g => (g.Id, g.Name)));
            var created = await run.Client.SendAsync<AppSegmentDto>(HttpMethod.Post, "app-segments", request, run.Cancellation);
            run.Out.One(created, (w, s) => w.WriteLine($"app segment {s.Name} created: {s.Id}"));
        }));
        segment.Subcommands.Add(DeleteByName<AppSegmentDto>(app, "app-segments", "app segment", s => (s.Id, s.Name)));
        return segment;
    }

    private static Command NamedGroups<T>(CliApp app, string noun, string collection, string description, Func<T, (Guid Id, string Name, string Description)> view)
    {
        var label = noun.Replace('-', ' ');
        var command = CliApp.Noun(noun, collection, description);
        command.Subcommands.Add(app.List<T>($"List {label}s", _ => collection,
            () => new Table("ID", "NAME", "DESCRIPTION"),
            (t, g) => { var (id, name, text) = view(g); t.Row(id, name, text); }));
        var name = new Option<string>("--name") { Description = $"The {label}'s name", Required = true };
        var text = new Option<string>("--description") { Description = "Free text" };
        command.Subcommands.Add(app.Action(app.WithJson(new Command("create", $"Create {WithArticle(label)}") { name, text }), async run =>
        {
            var created = await run.Client.SendAsync<T>(HttpMethod.Post, collection, new NamedObjectRequest(run.Require(name), run.Get(text)), run.Cancellation);
            run.Out.One(created, (w, g) => w.WriteLine($"{label} {view(g).Name} created: {view(g).Id}"));
        }));
        command.Subcommands.Add(DeleteByName(app, collection, label, (T g) => (view(g).Id, view(g).Name)));
        return command;
    }

    private static Command ServerGroups(CliApp app)
    {
        var group = CliApp.Noun("server-group", "server-groups", "App servers behind app segments, and how connectors check them");
        group.Subcommands.Add(app.List<ServerGroupDto>("List server groups", _ => "server-groups",
            () => new Table("ID", "NAME", "SERVERS", "CHECK", "PATH"),
            (t, g) => t.Row(g.Id, g.Name, string.Join(',', g.Servers), g.HealthCheck, g.HealthPath)));
        var name = new Option<string>("--name") { Description = "The group's name", Required = true };
        var servers = new Option<string[]>("--server") { Description = "A server's host name or address; repeatable", Required = true };
        var check = new Option<string>("--health-check") { Description = "tcp (a connection opens) or http (GET answers 2xx or 3xx)", DefaultValueFactory = _ => HealthCheckKinds.Tcp };
        check.AcceptOnlyFromAmong([.. HealthCheckKinds.All]);
        var path = new Option<string>("--health-path") { Description = "The path an http check asks for", DefaultValueFactory = _ => "/" };
        var description = new Option<string>("--description") { Description = "Free text" };
        group.Subcommands.Add(app.Action(app.WithJson(new Command("create", "Create a server group") { name, servers, check, path, description }), async run =>
        {
            var created = await run.Client.SendAsync<ServerGroupDto>(HttpMethod.Post, "server-groups",
                new ServerGroupRequest(run.Require(name), run.Get(description), run.Get(servers), run.Get(check), run.Get(path)), run.Cancellation);
            run.Out.One(created, (w, g) => w.WriteLine($"server group {g.Name} created: {g.Id}"));
        }));
        group.Subcommands.Add(DeleteByName<ServerGroupDto>(app, "server-groups", "server group", g => (g.Id, g.Name)));
        return group;
    }

    private static Command AccessPolicy(CliApp app)
    {
        var policy = CliApp.Noun("access-policy", "access-policies", "Who may reach which private apps: ordered rules, the first match decides, no match is a refusal");
        policy.Subcommands.Add(app.Action(app.WithJson(new Command("list", "List the access rules in order")), async run =>
        {
            var rules = await run.Client.GetAsync<List<PolicyRuleDto>>("access-policy", run.Cancellation);
            run.Out.List(new ApiResult<IReadOnlyList<PolicyRuleDto>>(rules.Value, rules.Json),
                () => new Table("ORDER", "NAME", "ACTION", "ENABLED", "WHO", "SEGMENTS"),
                (t, r) => t.Row(r.Order, r.Rule.Name, r.Rule.Action, r.Rule.Enabled,
                    string.Join(',', [.. r.Rule.Criteria.Groups ?? [], .. r.Rule.Criteria.Users ?? []]),
                    string.Join(',', [.. r.Rule.Criteria.AppSegments ?? [], .. (r.Rule.Criteria.SegmentGroups ?? []).Select(g => $"group:{g}")])));
        }));

        var source = new Argument<FileInfo>("FILE") { Description = "An access policy document ({rules: [...]}): YAML if it ends .yaml or .yml, else JSON" };
        policy.Subcommands.Add(app.Action(app.WithJson(new Command("import", "Replace every access rule with the file's, atomically") { source }), async run =>
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
            var yaml = file.Name.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || file.Name.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);
            content.Headers.ContentType = new MediaTypeHeaderValue(yaml ? "application/yaml" : "application/json");
            var rules = await run.Client.SendContentAsync<List<PolicyRuleDto>>(HttpMethod.Put, "access-policy", content, run.Cancellation);
            run.Out.One(rules, (w, r) => w.WriteLine($"access policy imported: {r.Count} {(r.Count == 1 ? "rule" : "rules")} in force"));
        }));
        return policy;
    }

    /// <summary>"an app segment", "a server group".</summary>
    private static string WithArticle(string noun) => ("aeiou".Contains(noun[0], StringComparison.Ordinal) ? "an " : "a ") + noun;

    private static Command DeleteByName<T>(CliApp app, string collection, string label, Func<T, (Guid Id, string Name)> view)
    {
        var target = new Argument<string>("NAME_OR_ID") { Description = $"The {label}'s name or id" };
        return app.Action(new Command("delete", $"Delete {WithArticle(label)}") { target }, async run =>
        {
            var id = await IdAsync(run, collection, label, run.Require(target), view);
            await run.Client.SendAsync(HttpMethod.Delete, $"{collection}/{id}", null, run.Cancellation);
            run.Environment.Stdout.WriteLine($"{label} {id} deleted");
        });
    }

    private static async Task<Guid> IdAsync<T>(Invocation run, string collection, string label, string nameOrId, Func<T, (Guid Id, string Name)> view) =>
        (await IdsAsync(run, collection, label, [nameOrId], view))![0];

    private static async Task<IReadOnlyList<Guid>?> IdsAsync<T>(Invocation run, string collection, string label, IReadOnlyList<string>? namesOrIds, Func<T, (Guid Id, string Name)> view) =>
        namesOrIds is { Count: > 0 } ? await NameLookup.IdsAsync(run, collection, label, namesOrIds, view) : null;
}
