using System.CommandLine;
using Gatehouse.Cli.Output;
using Gatehouse.Wire.Api;

namespace Gatehouse.Cli.Commands.Tenants;

/// <summary><c>gatehouse tenant list|create|show</c>; list and create are for operators.</summary>
internal static class TenantCommand
{
    public static Command Build(CliApp app)
    {
        var tenant = CliApp.Noun("tenant", "tenants", "Tenants (list and create: operators only)");

        tenant.Subcommands.Add(app.List<TenantDto>("List tenants", _ => "tenants",
            () => new Table("ID", "NAME", "CREATED"),
            (t, x) => t.Row(x.Id, x.Name, x.CreatedAt)));

        var name = new Option<string>("--name") { Description = "The tenant's name", Required = true };
        var owner = new Option<string>("--owner-email") { Description = "Email of its first owner", Required = true };
        tenant.Subcommands.Add(app.Action(app.WithJson(new Command("create", "Create a tenant and its owner; prints the owner's one-time password") { name, owner }), async run =>
        {
            var created = await run.Client.SendAsync<CreateTenantResponse>(HttpMethod.Post, "tenants",
                new CreateTenantRequest(run.Require(name), run.Require(owner)), run.Cancellation);
            run.Out.One(created, (w, c) =>
            {
                run.Environment.Stderr.WriteLine($"tenant {c.Tenant.Name} created: {c.Tenant.Id}; owner {c.Owner.Email}, one-time password (shown once):");
                w.WriteLine(c.OneTimePassword);
            });
        }));

        var ca = new Option<bool>("--ca") { Description = "Print only the tenant CA certificate (PEM)" };
        tenant.Subcommands.Add(app.Action(app.WithJson(new Command("show", "Show your tenant") { ca }), async run =>
        {
            var shown = await run.Client.GetAsync<TenantDetailsDto>("tenant", run.Cancellation);
            if (run.Get(ca) && !run.Out.Json)
            {
                run.Environment.Stdout.Write(shown.Value.CaCertificatePem.TrimEnd() + "\n");
                return;
            }
            run.Out.One(shown, (w, t) => ResultPrinter.Fields(w, ("id", t.Id), ("name", t.Name), ("created", t.CreatedAt)));
        }));
        return tenant;
    }
}
