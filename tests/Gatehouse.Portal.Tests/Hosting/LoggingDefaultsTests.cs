using Gatehouse.Portal.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Portal.Tests.Hosting;

/// <summary>The portal's log: its own events and the host's start, not a line per request or per SQL command, unless an operator asks.</summary>
public sealed class LoggingDefaultsTests : IDisposable
{
    private const string SqlCommands = "Microsoft.EntityFrameworkCore.Database.Command";
    private const string Requests = "Microsoft.AspNetCore.Hosting.Diagnostics";

    private readonly string _root = Directory.CreateTempSubdirectory("gatehouse-portal-logging-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task By_default_requests_and_SQL_commands_are_not_logged_and_the_portal_and_its_start_are()
    {
        await using var app = PortalHost.Build([], options => options.DataDirectory = _root);
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();

        Assert.False(loggers.CreateLogger(SqlCommands).IsEnabled(LogLevel.Information));
        Assert.False(loggers.CreateLogger(Requests).IsEnabled(LogLevel.Information));
        Assert.True(loggers.CreateLogger(SqlCommands).IsEnabled(LogLevel.Warning));
        Assert.True(loggers.CreateLogger("Microsoft.Hosting.Lifetime").IsEnabled(LogLevel.Information));
        Assert.True(loggers.CreateLogger(typeof(PortalHost).FullName!).IsEnabled(LogLevel.Information));
    }

    [Fact]
    public async Task A_setting_raises_them_again()
    {
        await using var app = PortalHost.Build(["--Logging:LogLevel:Microsoft.EntityFrameworkCore=Information"], options => options.DataDirectory = _root);
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();

        Assert.True(loggers.CreateLogger(SqlCommands).IsEnabled(LogLevel.Information));
        Assert.False(loggers.CreateLogger(Requests).IsEnabled(LogLevel.Information));
    }
}
