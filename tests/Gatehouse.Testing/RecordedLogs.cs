using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Testing;

/// <summary>Every log entry a host writes, with its event id: add it as the host's <see cref="ILoggerProvider"/>.</summary>
public sealed class RecordedLogs : ILoggerProvider
{
    public ConcurrentQueue<(int Id, LogLevel Level, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Recorder(Entries);

    public void Dispose()
    {
    }

    private sealed class Recorder(ConcurrentQueue<(int Id, LogLevel Level, string Message)> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue((eventId.Id, logLevel, formatter(state, exception)));
    }
}
