using System.Xml.Linq;

namespace Gatehouse.Architecture.Tests.Dependencies;

/// <summary>What a project can reference: another project, a NuGet package, a shared framework or an MSBuild SDK.</summary>
internal enum ReferenceKind
{
    Project,
    Package,
    Framework,
    Sdk,
}

/// <summary>One reference, and the file (project, Directory.Build.*, Directory.Packages.props) that declares it.</summary>
internal sealed record Reference(ReferenceKind Kind, string Name, string DeclaredIn, string? ProjectPath = null);

/// <summary>A project file and everything it references directly.</summary>
internal sealed record ProjectNode(string Name, string Path, IReadOnlyList<Reference> References);

/// <summary>A reference reachable from a project, with the shortest chain of projects that leads to it.</summary>
internal sealed record ReachableReference(IReadOnlyList<string> Chain, Reference Reference)
{
    public override string ToString() => string.Join(" -> ", Chain);
}

/// <summary>
/// Reads the project files under a folder (ProjectReference, PackageReference,
/// FrameworkReference and the Sdk) and answers what each project reaches, transitively.
/// </summary>
/// <remarks>
/// Conditions are ignored on purpose: a reference that exists under any condition counts.
/// Items from Directory.Build.props/.targets between a project and the repository root, and
/// GlobalPackageReference items from Directory.Packages.props, count for every project they
/// apply to. Dependencies of NuGet packages themselves are not followed.
/// </remarks>
internal sealed class DependencyGraph
{
    /// <summary>SDKs that bring a shared framework with them.</summary>
    private static readonly Dictionary<string, string> ImpliedFrameworks = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Microsoft.NET.Sdk.Web"] = "Microsoft.AspNetCore.App",
        ["Microsoft.NET.Sdk.Razor"] = "Microsoft.AspNetCore.App",
    };

    private const string PlainSdk = "Microsoft.NET.Sdk";

    private readonly Dictionary<string, ProjectNode> byPath;

    private DependencyGraph(string root, Dictionary<string, ProjectNode> byPath)
    {
        Root = root;
        this.byPath = byPath;
    }

    /// <summary>The repository root; paths in messages are relative to it.</summary>
    public string Root { get; }

    /// <summary>Every project found under the scanned folder, and any project they reference.</summary>
    public IEnumerable<ProjectNode> Projects => byPath.Values.OrderBy(p => p.Name, StringComparer.Ordinal);

    /// <summary>Reads every <c>*.csproj</c> under <paramref name="root"/>/<paramref name="folder"/> and the projects they reference.</summary>
    public static DependencyGraph Load(string root, string folder = "src")
    {
        root = Path.GetFullPath(root);
        var scan = Path.Combine(root, folder);
        var byPath = new Dictionary<string, ProjectNode>(StringComparer.Ordinal);
        var pending = new Queue<string>(Directory.Exists(scan)
            ? Directory.EnumerateFiles(scan, "*.csproj", SearchOption.AllDirectories).Where(p => !IsBuildOutput(p)).Order(StringComparer.Ordinal)
            : []);

        while (pending.TryDequeue(out var path))
        {
            if (byPath.ContainsKey(path) || !File.Exists(path))
            {
                continue;
            }

            var node = ReadProject(root, path);
            byPath[path] = node;
            foreach (var reference in node.References)
            {
                if (reference.ProjectPath is not null)
                {
                    pending.Enqueue(reference.ProjectPath);
                }
            }
        }

        return new DependencyGraph(root, byPath);
    }

    /// <summary>Projects whose name matches <paramref name="pattern"/> (exact, or a prefix ending in <c>*</c>).</summary>
    public IEnumerable<ProjectNode> Matching(string pattern) => Projects.Where(p => NamePattern.Matches(pattern, p.Name));

    /// <summary>
    /// Everything <paramref name="project"/> reaches through project references, each once,
    /// with the shortest chain that reaches it.
    /// </summary>
    public IReadOnlyList<ReachableReference> Reachable(ProjectNode project)
    {
        var found = new List<ReachableReference>();
        var seen = new HashSet<(ReferenceKind, string)>();
        var visited = new HashSet<string>(StringComparer.Ordinal) { project.Path };
        var queue = new Queue<(ProjectNode Node, IReadOnlyList<string> Chain)>();
        queue.Enqueue((project, [project.Name]));

        // Breadth first, so that the first chain found to a reference is a shortest one.
        while (queue.TryDequeue(out var current))
        {
            foreach (var reference in current.Node.References)
            {
                IReadOnlyList<string> chain = [.. current.Chain, reference.Name];
                if (seen.Add((reference.Kind, reference.Name.ToUpperInvariant())))
                {
                    found.Add(new ReachableReference(chain, reference));
                }

                if (reference.ProjectPath is not null
                    && visited.Add(reference.ProjectPath)
                    && byPath.TryGetValue(reference.ProjectPath, out var next))
                {
                    queue.Enqueue((next, chain));
                }
            }
        }

        return found;
    }

    /// <summary>A path relative to the repository root, with forward slashes.</summary>
    public string Relative(string path) => Path.GetRelativePath(Root, path).Replace('\\', '/');

    private static ProjectNode ReadProject(string root, string path)
    {
        var references = new List<Reference>();
        var document = XDocument.Load(path);
        var project = document.Root ?? throw new InvalidDataException($"{path} has no root element.");

        var sdks = Split(project.Attribute("Sdk")?.Value)
            .Concat(Elements(project, "Sdk").Select(e => e.Attribute("Name")?.Value ?? string.Empty))
            .Concat(Elements(project, "Import").Select(e => e.Attribute("Sdk")?.Value ?? string.Empty))
            .Select(sdk => sdk.Split('/')[0].Trim())
            .Where(sdk => sdk.Length > 0)
            .Distinct(StringComparer.OrdinalIgnoreCase);
        foreach (var sdk in sdks)
        {
            if (!sdk.Equals(PlainSdk, StringComparison.OrdinalIgnoreCase))
            {
                references.Add(new Reference(ReferenceKind.Sdk, sdk, path));
            }

            if (ImpliedFrameworks.TryGetValue(sdk, out var framework))
            {
                references.Add(new Reference(ReferenceKind.Framework, framework, path));
            }
        }

        references.AddRange(ReadItems(path, project));
        foreach (var buildFile in BuildFilesAbove(root, path))
        {
            var buildProject = XDocument.Load(buildFile).Root;
            if (buildProject is not null)
            {
                references.AddRange(ReadItems(buildFile, buildProject));
            }
        }

        return new ProjectNode(Path.GetFileNameWithoutExtension(path), path, references);
    }

    private static IEnumerable<Reference> ReadItems(string file, XElement project)
    {
        var directory = Path.GetDirectoryName(file)!;
        foreach (var include in Elements(project, "ProjectReference").SelectMany(Includes))
        {
            var target = Path.GetFullPath(Path.Combine(directory, include.Replace('\\', '/')));
            yield return new Reference(ReferenceKind.Project, Path.GetFileNameWithoutExtension(target), file, target);
        }

        foreach (var include in Elements(project, "PackageReference").Concat(Elements(project, "GlobalPackageReference")).SelectMany(Includes))
        {
            yield return new Reference(ReferenceKind.Package, include, file);
        }

        foreach (var include in Elements(project, "FrameworkReference").SelectMany(Includes))
        {
            yield return new Reference(ReferenceKind.Framework, include, file);
        }
    }

    /// <summary>
    /// Directory.Build.props/.targets from the project's folder up to the root, and the
    /// root's Directory.Packages.props (for GlobalPackageReference).
    /// </summary>
    private static IEnumerable<string> BuildFilesAbove(string root, string projectPath)
    {
        for (var dir = new DirectoryInfo(Path.GetDirectoryName(projectPath)!); dir is not null; dir = dir.Parent)
        {
            foreach (var name in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
            {
                var candidate = Path.Combine(dir.FullName, name);
                if (File.Exists(candidate))
                {
                    yield return candidate;
                }
            }

            if (string.Equals(dir.FullName.TrimEnd(Path.DirectorySeparatorChar), root.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
            {
                yield break;
            }
        }
    }

    private static IEnumerable<XElement> Elements(XElement project, string localName) =>
        project.Descendants().Where(e => e.Name.LocalName == localName);

    private static IEnumerable<string> Includes(XElement item) => Split(item.Attribute("Include")?.Value);

    private static IEnumerable<string> Split(string? value) =>
        (value ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool IsBuildOutput(string path)
    {
        var parts = path.Split(Path.DirectorySeparatorChar);
        return parts.Contains("bin") || parts.Contains("obj");
    }
}

/// <summary>Name patterns in rules: an exact name, or a prefix followed by <c>*</c>; case-insensitive like NuGet ids.</summary>
internal static class NamePattern
{
    public static bool Matches(string pattern, string name) =>
        pattern.EndsWith('*')
            ? name.StartsWith(pattern[..^1], StringComparison.OrdinalIgnoreCase)
            : name.Equals(pattern, StringComparison.OrdinalIgnoreCase);

    public static bool MatchesAny(IEnumerable<string> patterns, string name) => patterns.Any(p => Matches(p, name));
}
