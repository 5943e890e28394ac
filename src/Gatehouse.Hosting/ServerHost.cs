using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration.Memory;

namespace Gatehouse.Hosting;

/// <summary>
/// Makes the ASP.NET Core host of every Gatehouse server process, so that each gets the same three defaults:
/// <list type="bullet">
/// <item>settings files (<c>appsettings.json</c>) are read from the binary's directory, not the current one;</item>
/// <item>they are read once: nothing on disk is watched;</item>
/// <item>ASP.NET Core's line per request and EF Core's line per SQL command are off, under every other source
/// of settings, so that <c>appsettings.json</c>, <c>Logging__LogLevel__…</c> variables or the command line can
/// turn them on again.</item>
/// </list>
/// </summary>
/// <remarks>
/// By default a host reads <c>appsettings.json</c> from the current directory and watches that directory, and
/// every directory under it, for changes. A service that systemd starts runs in <c>/</c>: an edge started there
/// held about 46,000 inotify watches for each of its two hosts (this machine allows 192,543 per user), and woke
/// up for every file written anywhere on the machine, its own transaction logs included. No Gatehouse setting
/// changes at run time, so there is nothing to watch. The log defaults: the portal's request and SQL lines came
/// to 780 in the first 2.5 minutes of <c>./up.sh</c>, most of them the nodes' long polls.
/// </remarks>
public static class ServerHost
{
    /// <summary>The host setting that turns off reloading settings files when they change.</summary>
    private const string NoReload = "--hostBuilder:reloadConfigOnChange=false";

    /// <summary>Log levels the host starts from, below every other source of settings.</summary>
    private static readonly Dictionary<string, string?> QuietLogging = new()
    {
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Warning",
    };

    /// <summary>A slim host builder (<see cref="WebApplication.CreateSlimBuilder(WebApplicationOptions)"/>) with the defaults above.</summary>
    /// <param name="args">Command-line settings, which override every other source.</param>
    public static WebApplicationBuilder CreateSlimBuilder(IReadOnlyList<string>? args = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [.. args ?? [], NoReload],
            // Where appsettings.json is read from: the binary's directory, not the current one.
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = QuietLogging });
        return builder;
    }
}
