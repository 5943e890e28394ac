using System.CommandLine;
using Gatehouse.Cli.Output;
using Gatehouse.Wire.Api;

namespace Gatehouse.Cli.Commands.Categories;

/// <summary><c>gatehouse category list|import|add</c>: URL categories that rules name.</summary>
internal static class CategoryCommand
{
    /// <summary>The most domains the portal takes in one call.</summary>
    public const int ChunkSize = 10_000;

    /// <summary>What an import did to one category (the <c>--json</c> of <c>category import</c>).</summary>
    public sealed record ImportedCategory(string Name, Guid Id, bool Created, long Sent, long DomainCount);

    public static Command Build(CliApp app)
    {
        var category = CliApp.Noun("category", "categories", "URL categories");

        category.Subcommands.Add(app.List<UrlCategoryDto>("List URL categories", _ => "categories",
            () => new Table("ID", "NAME", "SOURCE", "DOMAINS", "CREATED"),
            (t, c) => t.Row(c.Id, c.Name, c.Source, c.DomainCount, c.CreatedAt)));

        var dir = new Option<DirectoryInfo>("--dir") { Description = "A squidGuard/UT1 blacklist folder (one subfolder per category with a `domains` file)", Required = true };
        var only = new Option<string[]>("--only") { Description = "Import only this category; repeat for several", HelpName = "NAME" };
        category.Subcommands.Add(app.Action(app.WithJson(new Command("import", "Create or refill categories from a blacklist folder") { dir, only }), async run =>
        {
            var folder = BlacklistFolder.Categories(run.Require(dir).FullName, run.Get(only) ?? []);
            foreach (var source in folder)
            {
                BlacklistFolder.Check(source.DomainsFile);
            }

            var known = (await run.Client.ListAsync<UrlCategoryDto>("categories", null, run.Cancellation)).Value;
            var results = new List<ImportedCategory>();
            foreach (var source in folder)
            {
                results.Add(await ImportAsync(run, source, known));
            }
            if (run.Out.Json)
            {
                run.Out.WriteJson(results);
                return;
            }
            var table = new Table("CATEGORY", "ID", "CREATED", "SENT", "DOMAINS");
            foreach (var r in results)
            {
                table.Row(r.Name, r.Id, r.Created, r.Sent, r.DomainCount);
            }
            table.WriteTo(run.Environment.Stdout, run.Environment.UseColour);
        }));

        var name = new Argument<string>("NAME") { Description = "The category (created as custom if missing)" };
        var domains = new Argument<string[]>("DOMAIN") { Description = "Domains to add", Arity = ArgumentArity.OneOrMore };
        category.Subcommands.Add(app.Action(app.WithJson(new Command("add", "Add domains to a category") { name, domains }), async run =>
        {
            var given = run.Require(domains);
            var existing = await NameLookup.CategoryOrNullAsync(run, run.Require(name));
            if (existing is null)
            {
                var created = await run.Client.SendAsync<UrlCategoryDto>(HttpMethod.Post, "categories",
                    new CreateUrlCategoryRequest(run.Require(name), null, "custom", given), run.Cancellation);
                run.Out.One(created, (w, c) => w.WriteLine($"category {c.Name} created with {c.DomainCount} domains: {c.Id}"));
                return;
            }
            var added = await run.Client.SendAsync<CategoryDomainsResult>(HttpMethod.Post, $"categories/{existing.Id}/domains",
                new AddCategoryDomainsRequest(given, Replace: false), run.Cancellation);
            run.Out.One(added, (w, r) => w.WriteLine($"{r.Added} added to {existing.Name}; it holds {r.DomainCount} domains"));
        }));
        return category;
    }

    // Creates the category if missing, then replaces its domains chunk by chunk: the first
    // chunk replaces, the others add, so a re-import leaves exactly the folder's domains.
    private static async Task<ImportedCategory> ImportAsync(Invocation run, BlacklistFolder.Category source, IReadOnlyList<UrlCategoryDto> known)
    {
        var existing = await NameLookup.CategoryOrNullAsync(run, source.Name, known);
        var id = existing?.Id ?? (await run.Client.SendAsync<UrlCategoryDto>(HttpMethod.Post, "categories",
            new CreateUrlCategoryRequest(source.Name, "imported from a blacklist folder", "imported", null), run.Cancellation)).Value.Id;

        var progress = new Progress(run.Environment, run.Time);
        long sent = 0;
        long count = existing?.DomainCount ?? 0;
        var first = true;
        foreach (var chunk in BlacklistFolder.Domains(source.DomainsFile).Chunk(ChunkSize).DefaultIfEmpty([]))
        {
            var result = await run.Client.SendAsync<CategoryDomainsResult>(HttpMethod.Post, $"categories/{id}/domains",
                new AddCategoryDomainsRequest(chunk, Replace: first), run.Cancellation);
            first = false;
            sent += chunk.Length;
            count = result.Value.DomainCount;
            progress.Report($"{source.Name}: {sent} domains sent");
        }
        progress.Done($"{source.Name}: {sent} domains sent, done");
        return new ImportedCategory(source.Name, id, existing is null, sent, count);
    }
}
