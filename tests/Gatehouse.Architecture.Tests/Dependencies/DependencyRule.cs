namespace Gatehouse.Architecture.Tests.Dependencies;

/// <summary>
/// A one-way dependency rule: what the projects matching <see cref="Projects"/> may reach,
/// transitively. Names are exact or a prefix ending in <c>*</c>.
/// </summary>
internal sealed record DependencyRule
{
    /// <summary>The projects the rule is about; a pattern that matches nothing (yet) is not a failure.</summary>
    public required IReadOnlyList<string> Projects { get; init; }

    /// <summary>Nothing these projects reach may match one of these.</summary>
    public IReadOnlyList<string> Forbidden { get; init; } = [];

    /// <summary>When set, everything these projects reach must match one of these; empty means nothing at all.</summary>
    public IReadOnlyList<string>? OnlyAllowed { get; init; }

    /// <summary>Why the rule exists, shown with every violation.</summary>
    public required string Why { get; init; }
}

/// <summary>A reference a rule does not allow, and how the project reaches it.</summary>
internal sealed record DependencyViolation(string Project, string ProjectPath, ReachableReference Path, string Broken, string DeclaredIn, DependencyRule Rule)
{
    public override string ToString() =>
        $"{Path}: {Project} ({ProjectPath}) {Broken}; the {Path.Reference.Kind.ToString().ToLowerInvariant()} reference to " +
        $"{Path.Reference.Name} is declared in {DeclaredIn}. Why: {Rule.Why}";
}

/// <summary>Checks rules against a <see cref="DependencyGraph"/>.</summary>
internal static class DependencyChecker
{
    public static IReadOnlyList<DependencyViolation> Check(DependencyGraph graph, IEnumerable<DependencyRule> rules)
    {
        var violations = new List<DependencyViolation>();
        foreach (var rule in rules)
        {
            var projects = rule.Projects.SelectMany(graph.Matching).DistinctBy(p => p.Path);
            foreach (var project in projects)
            {
                foreach (var reached in graph.Reachable(project))
                {
                    var broken = Broken(rule, reached.Reference.Name);
                    if (broken is not null)
                    {
                        violations.Add(new DependencyViolation(
                            project.Name, graph.Relative(project.Path), reached, broken, graph.Relative(reached.Reference.DeclaredIn), rule));
                    }
                }
            }
        }

        return violations;
    }

    private static string? Broken(DependencyRule rule, string name)
    {
        var forbidden = rule.Forbidden.FirstOrDefault(pattern => NamePattern.Matches(pattern, name));
        if (forbidden is not null)
        {
            return $"must not reference {forbidden}, even transitively";
        }

        if (rule.OnlyAllowed is { } allowed && !NamePattern.MatchesAny(allowed, name))
        {
            return allowed.Count == 0
                ? "must reference nothing at all"
                : $"may reference only {string.Join(", ", allowed)}";
        }

        return null;
    }
}
