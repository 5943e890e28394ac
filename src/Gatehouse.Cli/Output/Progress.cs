namespace Gatehouse.Cli.Output;

/// <summary>
/// Progress on stderr for work that takes more than a second: nothing for quick work, then at
/// most one update a second (rewriting the line on a terminal, one line each otherwise).
/// </summary>
internal sealed class Progress(CliEnvironment environment, TimeProvider time)
{
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);
    private readonly long _started = time.GetTimestamp();
    private long _lastShown;
    private bool _shown;

    /// <summary>Reports the current state; shown only once the work has taken a second.</summary>
    public void Report(string status, bool force = false)
    {
        var now = time.GetTimestamp();
        if (!force && (time.GetElapsedTime(_started, now) < Quiet || (_shown && time.GetElapsedTime(_lastShown, now) < Quiet)))
        {
            return;
        }
        _shown = true;
        _lastShown = now;
        if (environment.StderrIsTerminal)
        {
            environment.Stderr.Write($"\r\u001b[K{status}");
        }
        else
        {
            environment.Stderr.WriteLine(status);
        }
    }

    /// <summary>Ends the progress line, if one was shown, with the final state.</summary>
    public void Done(string status)
    {
        if (!_shown)
        {
            return;
        }
        if (environment.StderrIsTerminal)
        {
            environment.Stderr.WriteLine($"\r\u001b[K{status}");
        }
        else
        {
            environment.Stderr.WriteLine(status);
        }
    }
}
