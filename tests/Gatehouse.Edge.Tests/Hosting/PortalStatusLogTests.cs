using Gatehouse.Edge.Hosting;
using Gatehouse.Node.Config;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Edge.Tests.Hosting;

public sealed class PortalStatusLogTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 5, 18, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Each_change_of_the_connection_is_logged_once_and_polls_that_only_renew_the_contact_are_not()
    {
        var logger = new RecordingLogger();
        var log = new PortalStatusLog(logger);

        var connected = new BundleFollowerStatus(PortalConnection.Connected, Start, Start, LastError: null, Version: 6);
        log.OnStatusChanged(null, connected);
        log.OnStatusChanged(null, connected with { LastContact = Start.AddSeconds(30) });
        log.OnStatusChanged(null, connected with { LastContact = Start.AddSeconds(60), Version = 7 });
        var down = new BundleFollowerStatus(PortalConnection.Unreachable, Start.AddSeconds(90), Start.AddSeconds(60), "connection refused", 7);
        log.OnStatusChanged(null, down);
        log.OnStatusChanged(null, down);
        log.OnStatusChanged(null, down with { LastError = "timed out" });
        log.OnStatusChanged(null, new BundleFollowerStatus(PortalConnection.Connected, Start.AddSeconds(120), Start.AddSeconds(120), "timed out", 7));
        log.OnStatusChanged(null, new BundleFollowerStatus(PortalConnection.Connected, Start.AddSeconds(120), Start.AddSeconds(150), "timed out", 7));

        Assert.Equal(
            [
                "Portal connected since 2026-12-05T18:00:00.0000000+00:00",
                "Portal unreachable since 2026-12-05T18:01:30.0000000+00:00: connection refused",
                "Portal unreachable since 2026-12-05T18:01:30.0000000+00:00: timed out",
                "Portal connected since 2026-12-05T18:02:00.0000000+00:00",
            ],
            logger.Messages);
    }

    private sealed class RecordingLogger : ILogger
    {
        public List<string> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Add(formatter(state, exception));
    }
}
