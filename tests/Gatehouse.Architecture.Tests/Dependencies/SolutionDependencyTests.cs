using Gatehouse.Testing;
using Xunit.Abstractions;

namespace Gatehouse.Architecture.Tests.Dependencies;

public sealed class SolutionDependencyTests(ITestOutputHelper output)
{
    [Fact]
    public void Projects_under_src_keep_their_dependencies_one_way()
    {
        var graph = DependencyGraph.Load(RepositoryRoot.Find());
        // A wrong root would find nothing and pass; the one project every rule builds on must be there.
        Assert.Contains(graph.Projects, p => p.Name == "Gatehouse.Wire");

        foreach (var rule in DependencyRules.All)
        {
            var covered = rule.Projects.SelectMany(graph.Matching).Select(p => p.Name).Distinct().ToList();
            output.WriteLine($"{string.Join(", ", rule.Projects)}: {(covered.Count == 0 ? "no such project yet" : string.Join(", ", covered))}");
        }

        var violations = DependencyChecker.Check(graph, DependencyRules.All);

        Assert.True(violations.Count == 0, "Dependency rules broken:\n" + string.Join("\n", violations));
    }
}
