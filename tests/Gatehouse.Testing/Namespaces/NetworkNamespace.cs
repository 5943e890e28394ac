using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Gatehouse.Testing.Namespaces;

/// <summary>
/// A network namespace the test made (<c>ip netns add</c>), deleted on dispose with its
/// <c>/etc/netns/NAME</c> files. Commands run inside with <c>ip netns exec</c>, which also mounts
/// those files (a resolv.conf of the namespace's own); <see cref="CreateSocket"/> makes a socket that
/// lives inside while the test process stays where it is.
/// </summary>
public sealed class NetworkNamespace : IDisposable
{
    private NetworkNamespace(string name) => Name = name;

    /// <summary>Its name.</summary>
    public string Name { get; }

    /// <summary>The directory <c>ip netns exec</c> mounts files from.</summary>
    public string EtcDirectory => Path.Combine("/etc/netns", Name);

    /// <summary>Creates the namespace with its loopback up.</summary>
    public static NetworkNamespace Create(string name)
    {
        HostIp("netns", "add", name);
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

    public void Dispose()
    {
        try
        {
            HostIp("netns", "delete", Name);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        if (Directory.Exists(EtcDirectory))
        {
            Directory.Delete(EtcDirectory, recursive: true);
        }
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
