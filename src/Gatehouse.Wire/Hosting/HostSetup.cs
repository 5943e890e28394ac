namespace Gatehouse.Wire.Hosting;

/// <summary>
/// What every Gatehouse process gives its ASP.NET Core host (<c>WebApplicationOptions</c>): settings files are
/// read from the binary's directory, once, and nothing on disk is watched.
/// </summary>
/// <remarks>
/// By default a host reads <c>appsettings.json</c> from the current directory and watches that directory, and
/// every directory under it, for changes. A service that systemd starts runs in <c>/</c>: an edge started there
/// held about 46,000 inotify watches for each of its two hosts (this machine allows 192,543 per user), and
/// woke up for every file written anywhere on the machine, its own transaction logs included. No Gatehouse
/// setting changes at run time, so there is nothing to watch.
/// </remarks>
public static class HostSetup
{
    /// <summary>The host's content root, where <c>appsettings.json</c> is read from: the directory of the binary.</summary>
    public static string ContentRoot => AppContext.BaseDirectory;

    /// <summary><paramref name="args"/>, then the host setting that turns off reloading settings files when they change.</summary>
    public static string[] Arguments(IReadOnlyList<string>? args = null) => [.. args ?? [], "--hostBuilder:reloadConfigOnChange=false"];
}
