using System.Diagnostics;
using System.Globalization;

namespace Gatehouse.Bench.Portal;

/// <summary>A real <c>gatehouse-portal</c> process, so that its CPU and memory are its own.</summary>
internal sealed class PortalProcess : IAsyncDisposable
{
    private const double ClockTicksPerSecond = 100; // Linux USER_HZ
    private readonly Process _process;

    private PortalProcess(Process process, Uri address, string dataDirectory)
    {
        _process = process;
        Address = address;
        DataDirectory = dataDirectory;
    }

    public Uri Address { get; }

    public string DataDirectory { get; }

    public string CertificatePath => Path.Combine(DataDirectory, "tls.crt");

    /// <summary>Starts the portal on PostgreSQL, or on SQLite in its data directory when <paramref name="postgres"/> is null.</summary>
    public static async Task<PortalProcess> StartAsync(string portalDll, int port, string? postgres, string ownerEmail, string ownerPassword)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("gatehouse-bench-portal-").FullName;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        string[] engine = postgres is null ? [] : ["--postgres", postgres];
        foreach (var arg in new[] { portalDll, "--listen", $"https://127.0.0.1:{port}", "--data-dir", dataDirectory }.Concat(engine))
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["GATEHOUSE_Portal__OwnerEmail"] = ownerEmail;
        start.Environment["GATEHOUSE_Portal__OwnerPassword"] = ownerPassword;
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["DOTNET_gcServer"] = "1";
        var process = Process.Start(start)!;
        var log = Path.Combine(dataDirectory, "portal.log");
        _ = PumpAsync(process.StandardOutput, log);
        _ = PumpAsync(process.StandardError, log + ".err");

        var portal = new PortalProcess(process, new Uri($"https://127.0.0.1:{port}/"), dataDirectory);
        using var probe = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } });
        for (var attempt = 0; attempt < 300; attempt++)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The portal exited with {process.ExitCode}; see {log}.err");
            }

            try
            {
                if ((await probe.GetAsync(new Uri(portal.Address, "/healthz"))).IsSuccessStatusCode)
                {
                    return portal;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("The portal did not become healthy within 30 s.");
    }

    private static async Task PumpAsync(StreamReader reader, string path)
    {
        await using var file = File.CreateText(path);
        while (await reader.ReadLineAsync() is { } line)
        {
            await file.WriteLineAsync(line);
        }
    }

    /// <summary>User plus system CPU time the portal has used so far.</summary>
    public TimeSpan CpuTime()
    {
        // /proc/PID/stat: fields after the command name; utime and stime are fields 14 and 15.
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / ClockTicksPerSecond);
    }

    /// <summary>Resident memory of the portal, in bytes.</summary>
    public long ResidentBytes()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        // The portal's log outlives the run, for a look at anything the numbers hint at.
        Directory.CreateDirectory(Path.Combine(".gatehouse", "bench"));
        foreach (var log in Directory.GetFiles(DataDirectory, "portal.log*"))
        {
            File.Copy(log, Path.Combine(".gatehouse", "bench", Path.GetFileName(log)), overwrite: true);
        }

        Directory.Delete(DataDirectory, recursive: true);
    }
}
