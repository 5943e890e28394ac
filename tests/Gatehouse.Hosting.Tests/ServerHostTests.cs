using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting.Tests;

/// <summary>
/// What every server host gets from <see cref="ServerHost"/>: settings from the binary's directory, read once, and
/// no line per request or per SQL command unless a setting asks. (That the real hosts hold no inotify instance is
/// <c>HostFileWatchTests</c>, in the connector's tests, which start all of them.)
/// </summary>
public sealed class ServerHostTests
{
    private const string Requests = "Microsoft.AspNetCore.Hosting.Diagnostics";
    private const string SqlCommands = "Microsoft.EntityFrameworkCore.Database.Command";

    [Fact]
    public void Settings_files_come_from_the_binary_s_directory_whatever_the_current_one_and_are_not_watched()
    {
        var builder = ServerHost.CreateSlimBuilder();

        Assert.Equal(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory), Path.TrimEndingDirectorySeparator(builder.Environment.ContentRootPath));
        var files = builder.Configuration.Sources.OfType<FileConfigurationSource>().ToList();
        Assert.Contains(files, f => f.Path == "appsettings.json");
        Assert.All(files, f => Assert.False(f.ReloadOnChange, $"{f.Path} is watched"));
    }

    [Fact]
    public async Task Requests_and_SQL_commands_are_not_logged_by_default_and_the_host_s_start_and_the_program_are()
    {
        await using var app = ServerHost.CreateSlimBuilder().Build();
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();

        Assert.False(loggers.CreateLogger(Requests).IsEnabled(LogLevel.Information));
        Assert.False(loggers.CreateLogger(SqlCommands).IsEnabled(LogLevel.Information));
        Assert.True(loggers.CreateLogger(Requests).IsEnabled(LogLevel.Warning));
        Assert.True(loggers.CreateLogger("Microsoft.Hosting.Lifetime").IsEnabled(LogLevel.Information));
        Assert.True(loggers.CreateLogger("Gatehouse.Edge.Hosting.EdgeHost").IsEnabled(LogLevel.Information));
    }

    [Fact]
    public async Task Any_setting_turns_them_on_again()
    {
        await using var app = ServerHost.CreateSlimBuilder(["--Logging:LogLevel:Microsoft.AspNetCore=Information"]).Build();
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();

        Assert.True(loggers.CreateLogger(Requests).IsEnabled(LogLevel.Information));
        Assert.False(loggers.CreateLogger(SqlCommands).IsEnabled(LogLevel.Information));
    }

    [Fact]
    public void The_caller_s_arguments_come_through_with_reloading_turned_off()
    {
        var builder = ServerHost.CreateSlimBuilder(["--Portal:Listen=https://127.0.0.1:1"]);

        Assert.Equal("https://127.0.0.1:1", builder.Configuration["Portal:Listen"]);
        Assert.Equal("false", builder.Configuration["hostBuilder:reloadConfigOnChange"]);
    }
}
