using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Testing;
using Gatehouse.Wire.Dns;

namespace Gatehouse.Agent.Tests.Dr;

/// <summary>
/// A real dnsmasq on 127.0.0.1 and a free port (never 53), answering TXT records it is given and
/// NXDOMAIN for every other name. It reads no system configuration (<c>/etc/dnsmasq.conf</c>,
/// <c>/etc/resolv.conf</c>, <c>/etc/hosts</c>) and forwards nothing.
/// </summary>
/// <remarks>
/// <code>
///   StartAsync(records)
///     ├─ dnsmasq.conf in a temporary folder: one txt-record= line per record (as an operator pastes it)
///     ├─ sh watchdog ─ dnsmasq --keep-in-foreground … (killed as soon as the test host is gone)
///     └─ a UDP query until it answers (bounded)
///   ReplaceRecordsAsync(records)   stop, rewrite the file, start again on the same port
///   Dispose                        kill it, delete the folder
/// </code>
/// </remarks>
public sealed class DnsmasqServer : IDisposable
{
    /// <summary>Set to <c>1</c>, a missing dnsmasq fails the tests that need it instead of skipping them.</summary>
    public const string RequireVariable = "GATEHOUSE_REQUIRE_DNSMASQ";

    /// <summary>How long dnsmasq may take to answer its first query.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    private const int StartAttempts = 3;

    // Runs dnsmasq ($2...) and stops it when the test host ($1) is gone.
    private const string Watchdog = """
        owner=$1; shift
        "$@" &
        child=$!
        while [ -d "/proc/$owner" ] && kill -0 "$child" 2>/dev/null; do sleep 0.2; done
        kill "$child" 2>/dev/null
        wait "$child"
        """;

    private readonly DirectoryInfo folder;
    private Process? process;
    private StringBuilder stderr = new();
    private int disposed;

    private DnsmasqServer(DirectoryInfo folder, IPAddress listen, int port, IReadOnlyList<(string Name, string Text)> records)
    {
        this.folder = folder;
        Address = new IPEndPoint(listen, port);
        Records = records;
    }

    /// <summary>The dnsmasq binary: on the PATH, or in /usr/sbin or /sbin; null when not installed.</summary>
    public static string? Binary { get; } = Find();

    /// <summary>Why dnsmasq tests cannot run here, or null when they can (or must, with <see cref="RequireVariable"/>).</summary>
    public static string? UnavailableReason =>
        Binary is null && Environment.GetEnvironmentVariable(RequireVariable) != "1"
            ? $"dnsmasq not found (install dnsmasq-base or run ./test.sh); set {RequireVariable}=1 to make this a failure"
            : null;

    /// <summary>Where to send queries: 127.0.0.1 and the server's port, UDP and TCP.</summary>
    public IPEndPoint Address { get; }

    /// <summary>The records served now.</summary>
    public IReadOnlyList<(string Name, string Text)> Records { get; private set; }

    /// <summary>The folder holding the configuration and dnsmasq's log.</summary>
    public string Folder => folder.FullName;

    private string ConfigPath => Path.Combine(folder.FullName, "dnsmasq.conf");

    private string LogPath => Path.Combine(folder.FullName, "dnsmasq.log");

    private string PidPath => Path.Combine(folder.FullName, "dnsmasq.pid");

    /// <summary>
    /// Starts dnsmasq serving <paramref name="records"/> and returns once it answers. A name given
    /// several times has several TXT records; a text longer than 255 bytes is split into strings of
    /// 255 bytes, which make one record.
    /// </summary>
    /// <param name="records">The TXT records: a name (no final dot needed) and the record's text (printable ASCII).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <param name="listen">The address to listen on: 127.0.0.1 unless given (an address of this namespace other namespaces reach).</param>
    /// <exception cref="InvalidOperationException">dnsmasq is not installed, or did not start; the message holds its output.</exception>
    public static async Task<DnsmasqServer> StartAsync(IEnumerable<(string Name, string Text)> records, CancellationToken cancellationToken = default, IPAddress? listen = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (Binary is null)
        {
            throw new InvalidOperationException("dnsmasq is not installed (install dnsmasq-base or run ./test.sh)");
        }

        var list = records.ToList();
        var folder = Directory.CreateTempSubdirectory("gatehouse-dnsmasq-");
        for (var attempt = 1; ; attempt++)
        {
            var server = new DnsmasqServer(folder, listen ?? IPAddress.Loopback, FreePort.GetLoopbackTcpPort(), list);
            try
            {
                await server.LaunchAsync(cancellationToken);
                return server;
            }
            catch (InvalidOperationException e) when (attempt < StartAttempts && e.Message.Contains("in use", StringComparison.OrdinalIgnoreCase))
            {
                // The free TCP port can be taken, or its UDP twin be in use; try another one.
                server.Kill();
            }
            catch
            {
                server.Dispose();
                throw;
            }
        }
    }

    /// <summary>Serves <paramref name="records"/> instead: dnsmasq is restarted on the same port, and this returns once it answers.</summary>
    /// <param name="records">The new records (see <see cref="StartAsync"/>).</param>
    /// <param name="cancellationToken">Cancels the restart.</param>
    public async Task ReplaceRecordsAsync(IEnumerable<(string Name, string Text)> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        ObjectDisposedException.ThrowIf(disposed != 0, this);
        Records = records.ToList();
        Kill();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await LaunchAsync(cancellationToken);
                return;
            }
            catch (InvalidOperationException e) when (attempt < StartAttempts && e.Message.Contains("in use", StringComparison.OrdinalIgnoreCase))
            {
                // The port of the server just stopped may take a moment to be free again.
                Kill();
                await Task.Delay(200, cancellationToken);
            }
        }
    }

    /// <summary>Stops dnsmasq, so that queries go unanswered, until <see cref="ReplaceRecordsAsync"/> starts it again.</summary>
    public void Stop() => Kill();

    /// <summary>Kills dnsmasq and deletes its folder.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        Kill();
        try
        {
            folder.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A log file still held open by a dying process: the folder is in /tmp and harmless.
        }
    }

    private async Task LaunchAsync(CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync(ConfigPath, Config(Records), cancellationToken);
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["-c", Watchdog, "sh", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), Binary!, .. Arguments()])
        {
            start.ArgumentList.Add(argument);
        }

        var output = new StringBuilder();
        stderr = output;
        process = Process.Start(start) ?? throw new InvalidOperationException("dnsmasq could not be started");
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        if (!await AnswersAsync(process, cancellationToken))
        {
            if (process.HasExited)
            {
                // Drains the redirected output, which holds why it stopped.
                process.WaitForExit();
            }

            var why = Output();
            Kill();
            throw new InvalidOperationException($"dnsmasq did not answer on {Address} within {StartTimeout.TotalSeconds} s: {why}");
        }
    }

    private string[] Arguments()
    {
        List<string> arguments =
        [
            "--keep-in-foreground",
            $"--conf-file={ConfigPath}",
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            $"--listen-address={Address.Address}",
            "--bind-interfaces",
            $"--port={Address.Port}",
            $"--pid-file={PidPath}",
            $"--log-facility={LogPath}",
        ];

        // As root dnsmasq drops to nobody, who may not read the (0700) temporary folder.
        if (Environment.UserName == "root")
        {
            arguments.Add("--user=root");
        }

        return [.. arguments];
    }

    private static string Config(IReadOnlyList<(string Name, string Text)> records)
    {
        var config = new StringBuilder();

        // Every name dnsmasq has no record for is answered NXDOMAIN, not REFUSED: nothing is forwarded.
        config.Append("local=/#/\n");
        foreach (var (name, text) in records)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(name);
            ArgumentNullException.ThrowIfNull(text);
            if (!Ascii.IsValid(text) || text.Any(char.IsControl))
            {
                throw new ArgumentException($"the text for {name} is not printable ASCII", nameof(records));
            }

            // The line an operator pastes from `gatehouse dr record --name`, with long texts split in 255-byte strings.
            var strings = text.Chunk(255).Select(chunk => "\"" + new string(chunk).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"");
            config.Append("txt-record=").Append(name.TrimEnd('.')).Append(',').AppendJoin(',', text.Length == 0 ? ["\"\""] : strings).Append('\n');
        }

        return config.ToString();
    }

    private async Task<bool> AnswersAsync(Process started, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var query = DnsMessage.Query(0x4711, "ready.gatehouse-test", DnsTypes.A);
        var buffer = new byte[512];
        while (deadline.Elapsed < StartTimeout && !started.HasExited)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attempt.CancelAfter(TimeSpan.FromMilliseconds(250));
            try
            {
                await socket.ConnectAsync(Address, attempt.Token);
                await socket.SendAsync(query, SocketFlags.None, attempt.Token);
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, attempt.Token);
                if (read >= 12 && BinaryPrimitives.ReadUInt16BigEndian(buffer) == 0x4711)
                {
                    return true;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Not listening yet.
            }
            catch (SocketException)
            {
                // Port unreachable: not bound yet.
                await Task.Delay(50, cancellationToken);
            }
        }

        return false;
    }

    private void Kill()
    {
        var running = Interlocked.Exchange(ref process, null);
        if (running is null)
        {
            return;
        }

        try
        {
            // dnsmasq first, so that the watchdog reaps it and ends; killing both at once would leave
            // a zombie dnsmasq behind, as nothing reaps an orphan in a container without an init.
            if (ReadPid() is { } pid)
            {
                try
                {
                    using var dnsmasq = Process.GetProcessById(pid);
                    if (dnsmasq.ProcessName == "dnsmasq")
                    {
                        dnsmasq.Kill();
                    }
                }
                catch (ArgumentException)
                {
                    // It has exited already.
                }
            }

            if (!running.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                running.Kill(entireProcessTree: true);
                running.WaitForExit(TestTimeouts.Default);
            }
        }
        catch (InvalidOperationException)
        {
            // It has exited already.
        }
        finally
        {
            running.Dispose();
            File.Delete(PidPath);
        }
    }

    private int? ReadPid()
    {
        try
        {
            return int.TryParse(File.ReadAllText(PidPath).Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private string Output()
    {
        string log;
        try
        {
            log = File.Exists(LogPath) ? File.ReadAllText(LogPath) : "";
        }
        catch (IOException)
        {
            log = "";
        }

        lock (stderr)
        {
            return $"{stderr}{log}".Trim();
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }

    private static string? Find()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        return path.Concat(["/usr/sbin", "/sbin"]).Select(d => Path.Combine(d, "dnsmasq")).FirstOrDefault(File.Exists);
    }
}

/// <summary>
/// A test that needs a real dnsmasq (<see cref="DnsmasqServer"/>): skipped, with the reason, when it
/// is not installed, unless <c>GATEHOUSE_REQUIRE_DNSMASQ=1</c> makes that a failure.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class DnsmasqFactAttribute : FactAttribute
{
    /// <summary>Marks a test that needs dnsmasq.</summary>
    public DnsmasqFactAttribute()
    {
        Skip = DnsmasqServer.UnavailableReason;
    }
}
