namespace Gatehouse.Cli;

/// <summary>
/// Why a command failed, with the exit code that says so. Printed once, at the top, as
/// <c>error: {message}</c> (and <c> (field: {field})</c> when the portal named the bad field).
/// </summary>
public sealed class CliException : Exception
{
    /// <summary>Creates a failure with its exit code (one of <see cref="ExitCodes"/>).</summary>
    public CliException(int exitCode, string message, string? field = null, int? status = null, Exception? inner = null)
        : base(message, inner)
    {
        ExitCode = exitCode;
        Field = field;
        Status = status;
    }

    /// <summary>The process exit code (one of <see cref="ExitCodes"/>).</summary>
    public int ExitCode { get; }

    /// <summary>The JSON path of the refused input, when the portal named it.</summary>
    public string? Field { get; }

    /// <summary>The HTTP status the portal answered with, if it answered.</summary>
    public int? Status { get; }

    /// <summary>Whether trying again later may succeed (503, or the portal not answering).</summary>
    public bool IsTransient => Status == 503 || ExitCode == ExitCodes.Unreachable;
}
