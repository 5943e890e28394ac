namespace Gatehouse.Architecture.Tests.Dependencies;

/// <summary>
/// The dependency rules of the solution (tailscale's deps_test.go). Add a rule by adding an
/// entry; see docs/testing.md.
/// </summary>
internal static class DependencyRules
{
    public static readonly IReadOnlyList<DependencyRule> All =
    [
        new()
        {
            Projects = ["Gatehouse.Wire"],
            OnlyAllowed = [],
            Why = "Wire holds what crosses a process boundary; every role takes it, so it brings nothing along (no project, no package, plain Microsoft.NET.Sdk).",
        },
        new()
        {
            Projects = ["Gatehouse.Trust"],
            OnlyAllowed = ["Gatehouse.Wire"],
            Why = "Trust (canonical JSON, signatures, certificates) runs on agents, connectors and edges and is built on the BCL alone.",
        },
        new()
        {
            Projects = ["Gatehouse.Tuf", "gatehouse-tuf"],
            OnlyAllowed = ["Gatehouse.Tuf", "Gatehouse.Trust", "Gatehouse.Wire", "System.CommandLine"],
            Why = "The TUF client verifies every update on every endpoint; it stands on the BCL and Trust alone, so that nothing it trusts can be swapped by a package.",
        },
        new()
        {
            Projects = ["Gatehouse.Rollouts"],
            OnlyAllowed = ["Gatehouse.Wire"],
            Why = "The rollout controller is pure logic on the BCL: the portal runs it for real, and the fleet simulator in bench/ runs the very same code.",
        },
        new()
        {
            Projects = ["Gatehouse.Content"],
            OnlyAllowed = ["Gatehouse.Wire"],
            Why = "Content loaders run in the agent and, before anything is published, in the portal: the same code on both sides, on the BCL alone.",
        },
        new()
        {
            Projects = ["Gatehouse.Updates"],
            OnlyAllowed = ["Gatehouse.Trust", "Gatehouse.Content", "Gatehouse.Wire"],
            Why = "The updater's slots and start counter must work when everything else is broken; they stand on the BCL and the content loaders alone.",
        },
        new()
        {
            Projects = ["Gatehouse.Policy"],
            OnlyAllowed = ["Gatehouse.Wire"],
            Why = "The policy engine runs on the edge, the DR edge and the portal; it is built on the BCL alone so that every host can take it.",
        },
        new()
        {
            // The executables are covered along with their libraries: `gatehouse` is the CLI.
            Projects = ["Gatehouse.Agent*", "gatehouse-agent*", "Gatehouse.Connector*", "gatehouse-connector*", "Gatehouse.Cli", "gatehouse"],
            Forbidden = ["Gatehouse.Portal*", "gatehouse-portal*", "Microsoft.EntityFrameworkCore*", "Npgsql*", "Microsoft.AspNetCore.Mvc*"],
            Why = "Endpoint and private-network programs stay small and talk to the portal over its API; they never carry the portal, a database engine or MVC.",
        },
        new() { Projects = ["Gatehouse.Agent", "gatehouse-agent"], Forbidden = ["Gatehouse.Edge*", "gatehouse-edge*", "Gatehouse.Policy*", "Microsoft.AspNetCore*"], Why = "Every agent process is resident on every endpoint: no server framework, and none of the edge or its policy engine (policy is decided at the edge)." },
        new() { Projects = ["Gatehouse.Tunnel"], Forbidden = ["Gatehouse.Portal*", "gatehouse-portal*", "Gatehouse.Edge*", "Microsoft.EntityFrameworkCore*", "Npgsql*", "Microsoft.AspNetCore*"], Why = "The tunnel client runs in the agent: HTTP/2 and TLS from the BCL, no server pieces, no portal, no edge." },
        new() { Projects = ["Gatehouse.Node"], Forbidden = ["Gatehouse.Portal*", "gatehouse-portal*", "Microsoft.EntityFrameworkCore*", "Npgsql*", "Microsoft.AspNetCore*"], Why = "Node (enrollment, credentials, config following) runs inside edges, agents and connectors; it talks to the portal over HTTPS and carries neither the portal, a database engine nor ASP.NET." },
        new() { Projects = ["Gatehouse.Flows"], OnlyAllowed = ["Gatehouse.Wire", "Microsoft.AspNetCore.App"], Why = "The flow plumbing (dial, registry, relay) is shared by the edge and the app connector: it stands on Wire and the ASP.NET connection abstractions, nothing of either role." },
        new() { Projects = ["Gatehouse.Hosting"], OnlyAllowed = ["Microsoft.AspNetCore.App"], Why = "How every server process makes its ASP.NET Core host (settings, file watching, log defaults): the portal, the edge and the app connector share it, so it carries nothing of any of them." },
        new() { Projects = ["Gatehouse.Edge", "gatehouse-edge"], Forbidden = ["Gatehouse.Portal*", "gatehouse-portal*", "Microsoft.EntityFrameworkCore*", "Npgsql*"], Why = "The service edge follows the portal's signed config over HTTPS like every node; it never carries the portal or a database engine, so many edges can run anywhere without them." },
    ];
}
