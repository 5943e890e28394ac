namespace Gatehouse.Testing;

/// <summary>
/// The tests every program's <c>DocumentedCommandsTests</c> inherits: the documents hold its commands, and a
/// mistyped option is caught. The derived class adds the theory over <see cref="DocumentedCommandLines.InRepository"/>
/// (xunit wants its data on the class that runs it) and says how its program parses.
/// </summary>
public abstract class DocumentedCommandsContract
{
    /// <summary>The program's name, as the documents write it.</summary>
    protected abstract string Program { get; }

    /// <summary>At least how many of its commands the documents hold (a guard against finding none).</summary>
    protected abstract int AtLeast { get; }

    [Fact]
    public void The_documents_hold_the_commands_this_checks()
    {
        var found = DocumentedCommandLines.InRepository(Program).Count();
        Assert.True(found >= AtLeast, $"found {found} documented {Program} commands, expected at least {AtLeast}");
    }

    [Fact]
    public void A_mistyped_option_is_caught()
    {
        var first = (string)DocumentedCommandLines.InRepository(Program).First()[1];

        Assert.NotEmpty(Problems([.. DocumentedCommandLines.Arguments(first, Program), "--no-such-option"]));
    }

    /// <summary>Why the program would refuse <paramref name="arguments"/>: none when it takes them.</summary>
    protected abstract IReadOnlyList<string> Problems(string[] arguments);

    /// <summary>Fails with the file, line and the program's reasons when <paramref name="line"/> does not parse.</summary>
    protected void AssertParses(string where, string line)
    {
        var problems = Problems(DocumentedCommandLines.Arguments(line, Program));

        Assert.True(problems.Count == 0, $"{where}: `{line}`: {string.Join("; ", problems)}");
    }
}
