namespace Gatehouse.Architecture.Tests.Dependencies;

/// <summary>A throwaway source tree of project files, to prove the checker fails when it should.</summary>
internal sealed class SyntheticRepository : IDisposable
{
    public SyntheticRepository()
    {
        Root = Directory.CreateTempSubdirectory("gatehouse-deps-").FullName;
        System.IO.File.WriteAllText(Path.Combine(Root, "global.json"), "{}");
    }

    public string Root { get; }

    /// <summary>Writes src/{name}/{name}.csproj with the given SDK and items.</summary>
    public SyntheticRepository Project(string name, string sdk = "Microsoft.NET.Sdk", string[]? projects = null, string[]? packages = null, string[]? frameworks = null)
    {
        var items = (projects ?? []).Select(p => $"""    <ProjectReference Include="..\{p}\{p}.csproj" />""")
            .Concat((packages ?? []).Select(p => $"""    <PackageReference Include="{p}" />"""))
            .Concat((frameworks ?? []).Select(f => $"""    <FrameworkReference Include="{f}" />"""));
        return File($"src/{name}/{name}.csproj", $"""
            <Project Sdk="{sdk}">
              <ItemGroup>
            {string.Join("\n", items)}
              </ItemGroup>
            </Project>
            """);
    }

    public SyntheticRepository File(string relativePath, string content)
    {
        var path = Path.Combine(Root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, content);
        return this;
    }

    public IReadOnlyList<DependencyViolation> Check(IEnumerable<DependencyRule>? rules = null) =>
        DependencyChecker.Check(DependencyGraph.Load(Root), rules ?? DependencyRules.All);

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
