using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Gatehouse.Testing.Namespaces;

/// <summary>
/// A network namespace the test made (<c>ip netns add</c>), deleted on dispose with its
/// <c>/etc/netns/NAME</c> files. Commands run inside with <c>ip netns exec</c>, which also mounts
/// those files (a resolv.conf of the namespace's own); <see cref="CreateSocket"/> makes a socket that
/// lives inside while the test process stays where it is. Each namespace has an owner record (the test
/// process's id, under <c>/run/gatehouse-tests/netns</c>), so that the first namespace a later test process
/// makes removes the ones a killed or crashed process left behind.
/// </summary>
public sealed class NetworkNamespace : IDisposable
{
    private const string OwnerDirectory = "/run/gatehouse-tests/netns";

    private static readonly Lazy<int> StaleRemoved = new(RemoveStale);

    private NetworkNamespace(string name) => Name = name;

    /// <summary>Its name.</summary>
    public string Name { get; }

    /// <summary>The directory <c>ip netns exec</c> mounts files from.</summary>
    public string EtcDirectory => Path.Combine("/etc/netns", Name);

    /// <summary>Creates the namespace with its loopback up.</summary>
    public static NetworkNamespace Create(string name)
    {
        _ = StaleRemoved.Value;
        HostIp("netns", "add", name);
        Directory.CreateDirectory(OwnerDirectory);
        File.WriteAllText(OwnerFile(name), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        var created = new NetworkNamespace(name);
        created.Ip("link", "set", "lo", "up");
        return created;
    }

    /// <summary>Runs <c>ip</c> in the test's own namespace; fails the test with ip's words when it fails.</summary>
    public static string HostIp(params string[] arguments) => Run("ip", arguments);

    /// <summary>Runs <c>ip -n NAME …</c> inside.</summary>
    public string Ip(params string[] arguments) => Run("ip", ["-n", Name, .. arguments]);

    /// <summary>Runs a command inside and returns its exit code and output.</summary>
    public async Task<(int Code, string Output, string Error)> ExecAsync(TimeSpan timeout, params string[] command)
    {
        using var process = Start(command);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{string.Join(' ', command)} in {Name} did not finish in {timeout.TotalSeconds} s.");
        }

        return (process.ExitCode, await output, await error);
    }

    /// <summary>Starts a command inside, its output redirected; the caller owns the process.</summary>
    public Process Start(params string[] command)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])["netns", "exec", Name, .. command])
        {
            info.ArgumentList.Add(argument);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("ip did not start.");
    }

    /// <summary>Writes a file that <c>ip netns exec</c> shows inside in place of <c>/etc/NAME</c> (resolv.conf, hosts).</summary>
    public void WriteEtcFile(string name, string content)
    {
        Directory.CreateDirectory(EtcDirectory);
        File.WriteAllText(Path.Combine(EtcDirectory, name), content);
    }

    /// <summary>
    /// Runs <paramref name="create"/> on a thread that has entered the namespace (setns), then leaves
    /// it: sockets made there (and bound, listening) live inside the namespace from then on.
    /// </summary>
    public T CreateSocket<T>(Func<T> create)
    {
        T? result = default;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var home = File.OpenHandle("/proc/thread-self/ns/net");
                using var target = File.OpenHandle(Path.Combine("/var/run/netns", Name));
                Enter(target);
                try
                {
                    result = create();
                }
                finally
                {
                    Enter(home);
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw new InvalidOperationException($"Could not make a socket inside {Name}: {failure.Message}", failure);
        }

        return result!;
    }

    public void Dispose() => Delete(Name);

    private static string OwnerFile(string name) => Path.Combine(OwnerDirectory, name);

    /// <summary>Deletes a namespace, its <c>/etc/netns</c> files and its owner record; one already gone is no error.</summary>
    private static void Delete(string name)
    {
        try
        {
            HostIp("netns", "delete", name);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        var etc = Path.Combine("/etc/netns", name);
        if (Directory.Exists(etc))
        {
            Directory.Delete(etc, recursive: true);
        }

        File.Delete(OwnerFile(name));
    }

    /// <summary>
    /// Removes the namespaces test processes that were killed or crashed left behind: their veth links and routes
    /// stay in the host's namespace and collide with a later topology's (<c>ip route add … File exists</c>). A
    /// namespace is stale when the process of its owner record is gone, or, with no record (made before records
    /// were kept), when it is over an hour old: no test keeps one that long. The benchmarks' (<c>gh-b…</c>) are
    /// left alone. Processes still inside are killed first, or the namespace would live on with them.
    /// </summary>
    internal static int RemoveStale()
    {
        var removed = 0;
        if (!Directory.Exists("/run/netns"))
        {
            return removed;
        }

        foreach (var path in Directory.EnumerateFiles("/run/netns", "gh-*"))
        {
            var name = Path.GetFileName(path);
            var owner = OwnerFile(name);
            var stale = !name.StartsWith("gh-b", StringComparison.Ordinal) && (File.Exists(owner)
                ? !(int.TryParse(File.ReadAllText(owner), CultureInfo.InvariantCulture, out var pid) && Directory.Exists($"/proc/{pid}"))
                : DateTime.UtcNow - File.GetLastWriteTimeUtc(path) > TimeSpan.FromHours(1));
            if (!stale)
            {
                continue;
            }

            try
            {
                foreach (var line in Run("ip", ["netns", "pids", name]).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    try
                    {
                        using var inside = Process.GetProcessById(int.Parse(line, CultureInfo.InvariantCulture));
                        inside.Kill(entireProcessTree: true);
                    }
                    catch (ArgumentException)
                    {
                        // Already gone.
                    }
                }

                Delete(name);
                removed++;
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                // Another process is removing it, or it cannot be removed: the test that collides will say so.
            }
        }

        return removed;
    }

    private static void Enter(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        if (SetNs((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
        {
            throw new SocketException(Marshal.GetLastWin32Error());
        }
    }

    private static string Run(string file, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{file} did not start.");
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0
            ? output
            : throw new InvalidOperationException($"{file} {string.Join(' ', info.ArgumentList)} failed ({process.ExitCode}): {error.Trim()}");
    }

    private const int CloneNewNet = 0x40000000;

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SetNs(int fd, int nstype);
}
