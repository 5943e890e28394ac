using Gatehouse.Testing;

namespace Gatehouse.Cli.Tests.Scripted;

/// <summary>What one run of the CLI printed and returned.</summary>
public sealed record CliRun(int ExitCode, string Stdout, string Stderr);

/// <summary>
/// Runs <c>gatehouse</c> in-process with captured streams, its own environment variables and
/// a config file in a temporary folder of its own.
/// </summary>
public sealed class CliRunner : IDisposable
{
    private readonly Dictionary<string, string> _variables = [];

    public CliRunner(Uri? portal = null)
    {
        Folder = Directory.CreateTempSubdirectory("gatehouse-cli-test-").FullName;
        ConfigPath = Path.Combine(Folder, "config", "cli.json");
        _variables["GATEHOUSE_CLI_CONFIG"] = ConfigPath;
        if (portal is not null)
        {
            _variables["GATEHOUSE_PORTAL"] = portal.ToString();
        }
    }

    public string Folder { get; }

    public string ConfigPath { get; }

    public CliRunner With(string variable, string? value)
    {
        if (value is null)
        {
            _variables.Remove(variable);
        }
        else
        {
            _variables[variable] = value;
        }
        return this;
    }

    public async Task<CliRun> RunWithStdinAsync(string stdin, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        using var input = new StringReader(stdin);
        var environment = CliEnvironment.FromStreams(stdout, stderr, input, name => _variables.GetValueOrDefault(name));
        var exit = await GatehouseCommand.RunAsync(args, environment, TimeProvider.System, CancellationToken.None).DefaultTimeout();
        return new CliRun(exit, stdout.ToString(), stderr.ToString());
    }

    public Task<CliRun> RunAsync(params string[] args) => RunWithStdinAsync("", args);

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
