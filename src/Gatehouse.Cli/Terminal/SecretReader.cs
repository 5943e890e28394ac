using System.Text;

namespace Gatehouse.Cli.Terminal;

/// <summary>
/// Reads passwords: prompted without echo when a person is at the terminal, else one line
/// from stdin. A password never comes from the command line, where <c>ps</c> would show it.
/// </summary>
internal sealed class SecretReader(CliEnvironment environment)
{
    /// <summary>Prompts on stderr and reads a line without echo (terminal only).</summary>
    public string Prompt(string prompt)
    {
        if (!environment.IsInteractive)
        {
            throw new CliException(ExitCodes.Usage, "stdin is not a terminal: cannot prompt for a password");
        }
        environment.Stderr.Write(prompt);
        environment.Stderr.Flush();
        var secret = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }
            if (key.Key == ConsoleKey.Backspace)
            {
                if (secret.Length > 0)
                {
                    secret.Length--;
                }
                continue;
            }
            if (!char.IsControl(key.KeyChar))
            {
                secret.Append(key.KeyChar);
            }
        }
        environment.Stderr.WriteLine();
        return secret.ToString();
    }

    /// <summary>One line from stdin, without its line ending; an empty or missing line is refused.</summary>
    public string ReadLine(string what)
    {
        var line = environment.Stdin.ReadLine();
        return string.IsNullOrEmpty(line)
            ? throw new CliException(ExitCodes.BadInput, $"expected the {what} on a line of stdin")
            : line;
    }
}
