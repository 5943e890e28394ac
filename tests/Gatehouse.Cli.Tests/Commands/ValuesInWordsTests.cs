using System.CommandLine;
using Gatehouse.Cli.Commands;
using Gatehouse.Cli.Tests.Scripted;

namespace Gatehouse.Cli.Tests.Commands;

/// <summary>
/// A value that does not convert is refused in words, by one parser per type for the whole command line. The refusals
/// were System.CommandLine's: "Cannot parse argument '1.5' for option '--days' as expected type
/// 'System.Nullable`1[System.Int32]'."
/// </summary>
public sealed class ValuesInWordsTests
{
    [Theory]
    [InlineData("error: --days takes a whole number, got '1.5'", "rollout", "create", "--channel", "bypass", "--version", "1", "--days", "1.5")]
    [InlineData("error: ID takes an id such as 0195f3c2-7d0e-7c3a-9f00-5a1b2c3d4e5f (`gatehouse rollout list` shows them), got 'nonsense'", "rollout", "show", "nonsense")]
    [InlineData("error: ID takes an id such as 0195f3c2-7d0e-7c3a-9f00-5a1b2c3d4e5f (`gatehouse device list` shows them), got '42'", "device", "revoke", "42")]
    [InlineData("error: --uses takes a whole number of at most 2147483647, got '99999999999'", "provisioning-key", "create", "--name", "k", "--kind", "edge", "--uses", "99999999999")]
    [InlineData("error: --version takes a whole number, got 'seven'", "dr", "record", "--key", "k.pem", "--tenant", "0195f3c2-7d0e-7c3a-9f00-5a1b2c3d4e5f", "--state", "on", "--version", "seven")]
    [InlineData("error: --tenant takes an id such as 0195f3c2-7d0e-7c3a-9f00-5a1b2c3d4e5f, got 'acme'", "dr", "record", "--key", "k.pem", "--tenant", "acme", "--state", "on", "--version", "7")]
    [InlineData("error: --time takes an ISO 8601 time such as 2026-11-22T10:00:00Z; got 'noon'", "policy", "explain", "--user", "ana@example.com", "--host", "a.example", "--time", "noon")]
    public async Task A_value_that_does_not_convert_is_refused_in_words_with_exit_2(string error, params string[] line)
    {
        using var cli = new CliRunner(new Uri("http://127.0.0.1:1/"));

        var run = await cli.RunAsync(line);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains(error, run.Stderr.Split('\n'));
        Assert.DoesNotContain("System.", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void No_option_or_argument_of_any_command_is_refused_in_dotnet_type_names()
    {
        var root = GatehouseCommand.Build(new CliApp(CliEnvironment.FromStreams(TextWriter.Null, TextWriter.Null, TextReader.Null, _ => null), TimeProvider.System));
        var refusals = new List<string>();
        foreach (var (path, command) in Commands(root, []))
        {
            var lines = command.Options.Where(o => o.Arity.MaximumNumberOfValues > 0).Select(o => (string[])[.. path, o.Name, "x!"])
                .Concat(command.Arguments.Select(_ => (string[])[.. path, "x!"]));
            foreach (var line in lines)
            {
                refusals.AddRange(root.Parse(line).Errors.Select(e => $"{string.Join(' ', line)}: {e.Message}"));
            }
        }

        Assert.NotEmpty(refusals);
        Assert.DoesNotContain(refusals, r => r.Contains("System.", StringComparison.Ordinal) || r.Contains("expected type", StringComparison.Ordinal));
    }

    private static IEnumerable<(string[] Path, Command Command)> Commands(Command command, string[] path)
    {
        yield return (path, command);
        foreach (var sub in command.Subcommands)
        {
            foreach (var found in Commands(sub, [.. path, sub.Name]))
            {
                yield return found;
            }
        }
    }
}
