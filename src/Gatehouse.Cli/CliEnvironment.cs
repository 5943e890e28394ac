namespace Gatehouse.Cli;

/// <summary>
/// What a command sees of the process: its streams, environment variables and whether a
/// person sits at the terminal. Tests give their own, so nothing reads <see cref="Console"/> directly.
/// </summary>
internal sealed class CliEnvironment
{
    private readonly Func<string, string?> _variables;

    public CliEnvironment(TextWriter stdout, TextWriter stderr, TextReader stdin, Func<string, string?> variables, bool interactive, bool colour)
    {
        Stdout = stdout;
        Stderr = stderr;
        Stdin = stdin;
        _variables = variables;
        IsInteractive = interactive;
        UseColour = colour;
    }

    /// <summary>Where results go.</summary>
    public TextWriter Stdout { get; }

    /// <summary>Where errors, warnings and progress go.</summary>
    public TextWriter Stderr { get; }

    /// <summary>Where passwords and piped input come from.</summary>
    public TextReader Stdin { get; }

    /// <summary>Stdin is a terminal: secrets may be prompted for without echo.</summary>
    public bool IsInteractive { get; }

    /// <summary>Stdout is a terminal and colours are welcome.</summary>
    public bool UseColour { get; }

    /// <summary>Stderr is a terminal: progress may rewrite its line.</summary>
    public bool StderrIsTerminal { get; init; }

    /// <summary>The value of an environment variable, or null when unset or empty.</summary>
    public string? Variable(string name) => _variables(name) is { Length: > 0 } value ? value : null;

    /// <summary>The real process: the console's streams and environment.</summary>
    public static CliEnvironment FromConsole() => new(
        Console.Out,
        Console.Error,
        Console.In,
        Environment.GetEnvironmentVariable,
        interactive: !Console.IsInputRedirected,
        colour: !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null or "")
    {
        StderrIsTerminal = !Console.IsErrorRedirected,
    };

    /// <summary>Given streams (tests, embedding): never interactive, never coloured.</summary>
    public static CliEnvironment FromStreams(TextWriter stdout, TextWriter stderr, TextReader stdin, Func<string, string?>? variables = null) =>
        new(stdout, stderr, stdin, variables ?? Environment.GetEnvironmentVariable, interactive: false, colour: false);
}
