using System.CommandLine;
using Gatehouse.Cli.Connection;
using Gatehouse.Cli.Output;

namespace Gatehouse.Cli.Commands;

/// <summary>
/// One run of one command: its parsed line, its streams, and the portal client made from the
/// flags, environment and config file on first use.
/// </summary>
internal sealed class Invocation(CliApp app, ParseResult parse, CancellationToken cancellation) : IDisposable
{
    private PortalClient? _client;
    private ResultPrinter? _printer;

    /// <summary>The process's streams and environment.</summary>
    public CliEnvironment Environment => app.Environment;

    /// <summary>Cancelled on Ctrl+C.</summary>
    public CancellationToken Cancellation { get; } = cancellation;

    /// <summary>The clock, faked in tests.</summary>
    public TimeProvider Time => app.Time;

    /// <summary>The CLI config file.</summary>
    public CliConfigStore ConfigStore { get; } = CliConfigStore.For(app.Environment);

    /// <summary>The value of an option of this command.</summary>
    public T? Get<T>(Option<T> option) => parse.GetValue(option);

    /// <summary>The value of an argument of this command.</summary>
    public T? Get<T>(Argument<T> argument) => parse.GetValue(argument);

    /// <summary>A required value: System.CommandLine has already refused the line without it.</summary>
    public T Require<T>(Option<T> option) where T : notnull => parse.GetValue(option) ?? throw new CliException(ExitCodes.Usage, $"{option.Name} is required");

    /// <summary>A required argument.</summary>
    public T Require<T>(Argument<T> argument) where T : notnull => parse.GetValue(argument) ?? throw new CliException(ExitCodes.Usage, $"{argument.Name} is required");

    /// <summary>Prints results, as JSON when the command has <c>--json</c> and it was given.</summary>
    public ResultPrinter Out => _printer ??= new ResultPrinter(Environment, app.JsonOf(parse));

    /// <summary>Connection settings from <c>--portal</c>, <c>--ca-file</c>, <c>--insecure</c>, environment and config file.</summary>
    public ConnectionSettings Settings(CliConfig? config = null) => ConnectionSettings.Resolve(
        parse.GetValue(app.Portal), parse.GetValue(app.CaFile), parse.GetValue(app.Insecure), Environment, config ?? ConfigStore.Load());

    /// <summary>The portal client for this run.</summary>
    public PortalClient Client => _client ??= PortalClient.Create(Settings(), Environment.Stderr);

    /// <summary>A client with given settings (login, before anything is stored).</summary>
    public PortalClient ClientFor(ConnectionSettings settings)
    {
        _client?.Dispose();
        return _client = PortalClient.Create(settings, Environment.Stderr);
    }

    /// <summary>Every item of a listing, or <c>--limit</c> of them.</summary>
    public Task<ApiResult<IReadOnlyList<T>>> ListAsync<T>(string path) =>
        Client.ListAsync<T>(path, app.LimitOf(parse), Cancellation);

    /// <inheritdoc/>
    public void Dispose() => _client?.Dispose();
}
