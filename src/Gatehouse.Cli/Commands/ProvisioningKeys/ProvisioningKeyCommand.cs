using System.CommandLine;
using Gatehouse.Cli.Output;
using Gatehouse.Wire.Api;

namespace Gatehouse.Cli.Commands.ProvisioningKeys;

/// <summary><c>gatehouse provisioning-key list|create|revoke</c>: secrets that enroll edges and connectors.</summary>
internal static class ProvisioningKeyCommand
{
    public static Command Build(CliApp app)
    {
        var key = CliApp.Noun("provisioning-key", "provisioning-keys", "Keys that enroll service edges and app connectors");

        key.Subcommands.Add(app.List<ProvisioningKeyDto>("List provisioning keys", _ => "provisioning-keys",
            () => new Table("ID", "NAME", "KIND", "CONNECTOR GROUP", "EXPIRES", "USES", "REVOKED"),
            (t, x) => t.Row(x.Id, x.Name, x.Kind, x.ConnectorGroupId, x.ExpiresAt, $"{x.UseCount}/{x.MaxUses}", x.Revoked)));

        var name = new Option<string>("--name") { Description = "What the key is for", Required = true };
        var kind = new Option<string>("--kind") { Description = "edge or connector", Required = true };
        kind.AcceptOnlyFromAmong([.. ProvisioningKinds.All]);
        var group = new Option<string>("--connector-group") { Description = "The connector group (name or id) a connector key enrolls into", HelpName = "NAME_OR_ID" };
        var days = new Option<int?>("--days") { Description = "Expires after N days (default: the portal's)", HelpName = "N" };
        var uses = new Option<int?>("--uses") { Description = "Enrolls at most N (default: the portal's)", HelpName = "N" };
        var create = new Command("create", "Create a provisioning key; prints it once on stdout") { name, kind, group, days, uses };
        create.Validators.Add(r =>
        {
            var chosen = CliApp.ValueOrDefault(r, kind);
            if (chosen == ProvisioningKinds.Connector && r.GetValue(group) is null)
            {
                r.AddError("a connector key needs --connector-group");
            }
            if (chosen == ProvisioningKinds.Edge && r.GetValue(group) is not null)
            {
                r.AddError("--connector-group is for connector keys only");
            }
        });
        key.Subcommands.Add(app.Action(app.WithJson(create), async run =>
        {
            Guid? groupId = run.Get(group) is { } g ? await NameLookup.ConnectorGroupIdAsync(run, g) : null;
            var created = await run.Client.SendAsync<CreateProvisioningKeyResponse>(HttpMethod.Post, "provisioning-keys",
                new CreateProvisioningKeyRequest(run.Require(name), run.Require(kind), groupId, run.Get(days), run.Get(uses)), run.Cancellation);
            run.Out.One(created, (w, c) =>
            {
                run.Environment.Stderr.WriteLine($"{c.ProvisioningKey.Kind} key {c.ProvisioningKey.Name} created: {c.ProvisioningKey.Id}; it is shown once:");
                w.WriteLine(c.Key);
            });
        }));

        key.Subcommands.Add(app.Delete("revoke", "Revoke a provisioning key", "provisioning-keys", "provisioning key"));
        return key;
    }
}
