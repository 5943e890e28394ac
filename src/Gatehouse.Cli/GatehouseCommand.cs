using System.CommandLine;
using System.CommandLine.Invocation;
using Gatehouse.Cli.Commands;
using Gatehouse.Cli.Commands.Admins;
using Gatehouse.Cli.Commands.Agent;
using Gatehouse.Cli.Commands.Audit;
using Gatehouse.Cli.Commands.Categories;
using Gatehouse.Cli.Commands.Connectors;
using Gatehouse.Cli.Commands.Devices;
using Gatehouse.Cli.Commands.Dr;
using Gatehouse.Cli.Commands.Edges;
using Gatehouse.Cli.Commands.EnrollmentTokens;
using Gatehouse.Cli.Commands.Groups;
using Gatehouse.Cli.Commands.Logs;
using Gatehouse.Cli.Commands.Policy;
using Gatehouse.Cli.Commands.PrivateAccess;
using Gatehouse.Cli.Commands.ProvisioningKeys;
using Gatehouse.Cli.Commands.Releases;
using Gatehouse.Cli.Commands.Session;
using Gatehouse.Cli.Commands.Tenants;
using Gatehouse.Cli.Commands.Tokens;
using Gatehouse.Cli.Commands.Users;

namespace Gatehouse.Cli;

/// <summary>The root of the <c>gatehouse</c> command line: <c>gatehouse &lt;noun&gt; &lt;verb&gt;</c>.</summary>
public static class GatehouseCommand
{
    /// <summary>Parses and runs one command line on the console; returns the process exit code (<see cref="ExitCodes"/>).</summary>
    public static Task<int> RunAsync(string[] args) => RunAsync(args, CliEnvironment.FromConsole(), TimeProvider.System, CancellationToken.None);

    /// <summary>Parses and runs one command line on the given streams (never interactive); returns the exit code.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, TextReader stdin) =>
        RunAsync(args, CliEnvironment.FromStreams(stdout, stderr, stdin), TimeProvider.System, CancellationToken.None);

    internal static async Task<int> RunAsync(string[] args, CliEnvironment environment, TimeProvider time, CancellationToken cancellation)
    {
        var app = new CliApp(environment, time);
        var root = Build(app);
        var parse = root.Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            foreach (var error in parse.Errors)
            {
                environment.Stderr.WriteLine($"error: {error.Message}");
            }
            environment.Stderr.WriteLine($"run `gatehouse {string.Join(' ', CommandPath(parse.CommandResult.Command))} --help` for usage".Replace("  ", " ", StringComparison.Ordinal));
            return ExitCodes.Usage;
        }
        var configuration = new InvocationConfiguration { Output = environment.Stdout, Error = environment.Stderr };
        return await parse.InvokeAsync(configuration, cancellation);
    }

    internal static RootCommand Build(CliApp app)
    {
        var root = new RootCommand("Gatehouse: administer a zero trust exchange through its portal, and run this machine's agent.");
        root.Options.Add(app.Portal);
        root.Options.Add(app.CaFile);
        root.Options.Add(app.Insecure);
        foreach (var command in SessionCommands.Build(app))
        {
            root.Subcommands.Add(command);
        }
        root.Subcommands.Add(AdminCommand.Build(app));
        root.Subcommands.Add(TenantCommand.Build(app));
        root.Subcommands.Add(UserCommand.Build(app));
        root.Subcommands.Add(GroupCommand.Build(app));
        root.Subcommands.Add(TokenCommand.Build(app));
        root.Subcommands.Add(DeviceCommand.Build(app));
        root.Subcommands.Add(EnrollmentTokenCommand.Build(app));
        root.Subcommands.Add(ProvisioningKeyCommand.Build(app));
        root.Subcommands.Add(EdgeCommand.Build(app));
        root.Subcommands.Add(ConnectorCommand.Build(app));
        foreach (var command in PrivateAccessCommands.Build(app))
        {
            root.Subcommands.Add(command);
        }

        root.Subcommands.Add(PolicyCommand.Build(app));
        root.Subcommands.Add(CategoryCommand.Build(app));
        root.Subcommands.Add(ReleaseCommand.Build(app));
        root.Subcommands.Add(DrCommands.Build(app));
        foreach (var command in RolloutCommands.Build(app))
        {
            root.Subcommands.Add(command);
        }

        root.Subcommands.Add(AuditCommand.Build(app));
        root.Subcommands.Add(LogsCommand.Build(app));
        foreach (var command in AgentCommands.Build(app))
        {
            root.Subcommands.Add(command);
        }

        ValuesInWords.Install(root);
        return root;
    }

    private static IEnumerable<string> CommandPath(Command command)
    {
        var names = new List<string>();
        for (Command? c = command; c is not null and not RootCommand; c = c.Parents.OfType<Command>().FirstOrDefault())
        {
            names.Insert(0, c.Name);
        }
        return names;
    }
}
