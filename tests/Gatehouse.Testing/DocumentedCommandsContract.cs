using System.Reflection;
using Xunit.Sdk;

namespace Gatehouse.Testing;

/// <summary>
/// The tests of every program's <c>DocumentedCommandsTests</c>: each command line the documents give it parses
/// (one case per line, <see cref="DocumentedCommandLines.InRepository"/>), the documents hold its commands, and a
/// mistyped option is caught. The derived class names the program and says how it parses.
/// </summary>
public abstract class DocumentedCommandsContract
{
    /// <summary>The program's name, as the documents write it.</summary>
    protected internal abstract string Program { get; }

    /// <summary>At least how many of its commands the documents hold (a guard against finding none).</summary>
    protected abstract int AtLeast { get; }

    [Theory]
    [DocumentedCommands]
    public void A_documented_command_parses(string where, string line)
    {
        var problems = Problems(DocumentedCommandLines.Arguments(line, Program));

        Assert.True(problems.Count == 0, $"{where}: `{line}`: {string.Join("; ", problems)}");
    }

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

    /// <summary>The documented command lines of the program of the test class that runs the theory (a derived class).</summary>
    [AttributeUsage(AttributeTargets.Method)]
    private sealed class DocumentedCommandsAttribute : DataAttribute
    {
        public override IEnumerable<object[]> GetData(MethodInfo testMethod)
        {
            var testClass = testMethod.ReflectedType ?? throw new InvalidOperationException($"{testMethod.Name} has no test class.");
            var contract = (DocumentedCommandsContract)Activator.CreateInstance(testClass)!;
            return DocumentedCommandLines.InRepository(contract.Program);
        }
    }
}
