namespace Gatehouse.Architecture.Tests.Dependencies;

public sealed class DependencyCheckerTests
{
    [Fact]
    public void Agent_reaching_ef_core_through_the_portal_is_reported_with_the_whole_chain()
    {
        using var repo = new SyntheticRepository()
            .Project("Gatehouse.Portal", packages: ["Microsoft.EntityFrameworkCore.Sqlite"])
            .Project("Gatehouse.Agent", projects: ["Gatehouse.Portal"]);

        var violations = repo.Check();

        var efCore = Assert.Single(violations, v => v.Path.Reference.Name == "Microsoft.EntityFrameworkCore.Sqlite");
        var message = efCore.ToString();
        Assert.StartsWith("Gatehouse.Agent -> Gatehouse.Portal -> Microsoft.EntityFrameworkCore.Sqlite: ", message, StringComparison.Ordinal);
        Assert.Contains("Gatehouse.Agent (src/Gatehouse.Agent/Gatehouse.Agent.csproj)", message, StringComparison.Ordinal);
        Assert.Contains("must not reference Microsoft.EntityFrameworkCore*", message, StringComparison.Ordinal);
        Assert.Contains("declared in src/Gatehouse.Portal/Gatehouse.Portal.csproj", message, StringComparison.Ordinal);
        Assert.Contains(violations, v => v.ToString().StartsWith("Gatehouse.Agent -> Gatehouse.Portal: ", StringComparison.Ordinal));
    }

    [Fact]
    public void Rules_for_projects_that_do_not_exist_yet_pass()
    {
        using var repo = new SyntheticRepository()
            .Project("Gatehouse.Wire")
            .Project("Gatehouse.Trust", projects: ["Gatehouse.Wire"]);

        Assert.Empty(repo.Check());
    }

    [Theory]
    [InlineData("Gatehouse.Cli", "Npgsql")]
    [InlineData("gatehouse", "Npgsql.EntityFrameworkCore.PostgreSQL")]
    [InlineData("Gatehouse.Connector.Linux", "Microsoft.AspNetCore.Mvc.Core")]
    [InlineData("Gatehouse.Agent", "microsoft.entityframeworkcore")]
    public void Endpoint_program_with_a_forbidden_package_is_reported(string project, string package)
    {
        using var repo = new SyntheticRepository().Project(project, packages: [package]);

        var violation = Assert.Single(repo.Check());

        Assert.Equal($"{project} -> {package}", violation.Path.ToString());
    }

    [Fact]
    public void Endpoint_program_may_use_packages_that_are_not_forbidden()
    {
        using var repo = new SyntheticRepository()
            .Project("Gatehouse.Wire")
            .Project("Gatehouse.Cli", projects: ["Gatehouse.Wire"], packages: ["System.CommandLine", "YamlDotNet"]);

        Assert.Empty(repo.Check());
    }

    [Fact]
    public void Wire_on_the_web_sdk_is_reported_as_referencing_asp_net_core()
    {
        using var repo = new SyntheticRepository().Project("Gatehouse.Wire", sdk: "Microsoft.NET.Sdk.Web");

        var reached = repo.Check().Select(v => v.Path.ToString()).ToList();

        Assert.Contains("Gatehouse.Wire -> Microsoft.NET.Sdk.Web", reached);
        Assert.Contains("Gatehouse.Wire -> Microsoft.AspNetCore.App", reached);
    }

    [Fact]
    public void Wire_with_any_reference_is_reported()
    {
        using var repo = new SyntheticRepository()
            .Project("Gatehouse.Trust")
            .Project("Gatehouse.Wire", projects: ["Gatehouse.Trust"], frameworks: ["Microsoft.AspNetCore.App"]);

        var violations = repo.Check().Where(v => v.Project == "Gatehouse.Wire").ToList();

        Assert.Equal(["Gatehouse.Wire -> Gatehouse.Trust", "Gatehouse.Wire -> Microsoft.AspNetCore.App"], violations.Select(v => v.Path.ToString()).Order(StringComparer.Ordinal));
        Assert.All(violations, v => Assert.Contains("must reference nothing at all", v.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public void Trust_with_a_package_or_through_wire_is_reported()
    {
        using var repo = new SyntheticRepository()
            .Project("Gatehouse.Wire", packages: ["YamlDotNet"])
            .Project("Gatehouse.Trust", projects: ["Gatehouse.Wire"], packages: ["BouncyCastle.Cryptography"]);

        var trust = repo.Check().Where(v => v.Project == "Gatehouse.Trust").Select(v => v.Path.ToString()).Order(StringComparer.Ordinal);

        Assert.Equal(["Gatehouse.Trust -> BouncyCastle.Cryptography", "Gatehouse.Trust -> Gatehouse.Wire -> YamlDotNet"], trust);
    }

    [Fact]
    public void Package_added_by_a_directory_build_props_counts_for_the_projects_below_it()
    {
        using var repo = new SyntheticRepository()
            .File("src/Directory.Build.props", """
                <Project>
                  <ItemGroup Condition="'$(Configuration)' == 'Debug'">
                    <PackageReference Include="Npgsql" />
                  </ItemGroup>
                </Project>
                """)
            .Project("Gatehouse.Cli");

        var violation = Assert.Single(repo.Check());

        Assert.Contains("declared in src/Directory.Build.props", violation.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Reference_cycle_is_walked_once()
    {
        using var repo = new SyntheticRepository()
            .Project("Gatehouse.Agent", projects: ["Gatehouse.Agent.Core"])
            .Project("Gatehouse.Agent.Core", projects: ["Gatehouse.Agent"], packages: ["Npgsql"]);

        var violations = repo.Check();

        Assert.Equal(
            ["Gatehouse.Agent -> Gatehouse.Agent.Core -> Npgsql", "Gatehouse.Agent.Core -> Npgsql"],
            violations.Select(v => v.Path.ToString()).Order(StringComparer.Ordinal));
    }
}
