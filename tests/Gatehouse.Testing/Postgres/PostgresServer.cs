using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace Gatehouse.Testing.Postgres;

/// <summary>
/// A real, throwaway PostgreSQL server for one test run: its own cluster in a temporary
/// folder, on a free loopback port, with durability switched off for speed.
/// </summary>
/// <remarks>
/// <code>
///   StartAsync
///     ├─ sweep clusters left behind by test hosts that died
///     ├─ initdb  (as the postgres user when running as root; PostgreSQL refuses root)
///     ├─ sh watchdog ─ postgres -p FREE_PORT -k SOCKET_DIR   output → server.log
///     │    (immediate shutdown as soon as the test host is gone)
///     └─ open a connection until it succeeds (bounded)
///   DisposeAsync
///     └─ pg_ctl stop -m immediate, kill if still alive, delete the folder
/// </code>
/// </remarks>
public sealed partial class PostgresServer : IAsyncDisposable
{
    /// <summary>How long the server may take to accept its first connection.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private const string FolderPrefix = "gatehouse-pg-";
    private const string OwnerFile = "owner.pid";
    private const string SystemUser = "postgres";
    private const int StartAttempts = 3;

    /// <summary>
    /// Runs the postmaster ($2...) and shuts it down at once (SIGQUIT: immediate shutdown) when
    /// the test host ($1) is gone, so a test host that is killed or never disposes its server
    /// leaves no server behind. /proc is checked because the postgres user may not signal root.
    /// </summary>
    private const string Watchdog = """
        owner=$1; shift
        "$@" &
        pg=$!
        while [ -d "/proc/$owner" ] && kill -0 "$pg" 2>/dev/null; do sleep 0.5; done
        kill -QUIT "$pg" 2>/dev/null
        wait "$pg"
        """;

    private readonly Process process;
    private readonly StreamWriter log;
    private readonly List<string> handedOut = [];
    private int disposed;

    private PostgresServer(string binDirectory, string rootDirectory, int port, Process process, StreamWriter log)
    {
        BinDirectory = binDirectory;
        RootDirectory = rootDirectory;
        Port = port;
        this.process = process;
        this.log = log;
    }

    /// <summary>
    /// Why no server can be started here, or null when the binaries are installed. Tests
    /// that got a null server from <see cref="StartAsync(CancellationToken)"/> skip with this text.
    /// </summary>
    public static string? UnavailableReason =>
        PostgresAvailability.BinDirectory is null ? PostgresAvailability.SkipMessage : null;

    /// <summary>The folder holding the PostgreSQL binaries in use.</summary>
    public string BinDirectory { get; }

    /// <summary>The temporary folder holding the cluster, its socket folder and the server log.</summary>
    public string RootDirectory { get; }

    /// <summary>The loopback TCP port the server listens on.</summary>
    public int Port { get; }

    /// <summary>The server's own output: stdout and stderr of the postmaster.</summary>
    public string LogPath => Path.Combine(RootDirectory, "server.log");

    /// <summary>The process id of the shell that watches the postmaster (behind <c>runuser</c> when running as root).</summary>
    public int ProcessId => process.Id;

    private string DataDirectory => Path.Combine(RootDirectory, "data");

    private string SocketDirectory => Path.Combine(RootDirectory, "sock");

    /// <summary>
    /// Starts a server, or returns null when no PostgreSQL binaries are installed and
    /// <c>GATEHOUSE_REQUIRE_POSTGRES</c> is not <c>1</c> (skip with <see cref="UnavailableReason"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// The binaries are missing and PostgreSQL is required, or the server did not start;
    /// the message holds the tail of the server log.
    /// </exception>
    public static Task<PostgresServer?> StartAsync(CancellationToken cancellationToken = default) =>
        StartAsync(Environment.ProcessId, cancellationToken);

    /// <param name="ownerProcessId">The process whose end stops the server (the test host; tests pass another one).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    internal static async Task<PostgresServer?> StartAsync(int ownerProcessId, CancellationToken cancellationToken)
    {
        var binDirectory = PostgresAvailability.BinDirectory;
        if (binDirectory is null)
        {
            if (!PostgresAvailability.IsRequired)
            {
                return null;
            }

            var configured = Environment.GetEnvironmentVariable(PostgresAvailability.BinDirectoryVariable);
            throw new InvalidOperationException(
                $"{PostgresAvailability.RequireVariable}=1 but no PostgreSQL server binaries were found " +
                (string.IsNullOrWhiteSpace(configured)
                    ? "under /usr/lib/postgresql/*/bin"
                    : $"in {PostgresAvailability.BinDirectoryVariable}='{configured}' (it needs initdb, postgres and pg_ctl)") +
                ". Install the postgresql package or run ./test.sh.");
        }

        await SweepAbandonedAsync(binDirectory, cancellationToken);

        var root = CreateRootDirectory();
        try
        {
            await InitializeClusterAsync(binDirectory, root, ownerProcessId, cancellationToken);
            for (var attempt = 1; ; attempt++)
            {
                var port = FreePort.GetLoopbackTcpPort();
                var server = Launch(binDirectory, root, port, ownerProcessId);
                string? started;
                try
                {
                    started = await server.WaitUntilReadyAsync(cancellationToken);
                }
                catch
                {
                    await server.StopAsync();
                    throw;
                }

                if (started is null)
                {
                    return server;
                }

                await server.StopAsync();
                // The free port can be taken between probing and binding; try another one.
                if (attempt < StartAttempts && started.Contains("could not bind", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                throw new InvalidOperationException(
                    $"PostgreSQL ({binDirectory}) did not start on 127.0.0.1:{port}: {started}\n--- tail of {server.LogPath} ---\n{Tail(server.LogPath)}");
            }
        }
        catch
        {
            TryDeleteDirectory(root);
            throw;
        }
    }

    /// <summary>The connection string for <paramref name="database"/> on this server, as the <c>postgres</c> superuser.</summary>
    public string ConnectionString(string database)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = SystemUser,
            Database = database,
            Timeout = 15,
            IncludeErrorDetail = true,
        };
        var connectionString = builder.ConnectionString;
        lock (handedOut)
        {
            handedOut.Add(connectionString);
        }

        return connectionString;
    }

    /// <summary>
    /// Creates a database, by default with a unique name so that tests sharing one server never
    /// see each other's data, and returns its connection string.
    /// </summary>
    /// <param name="name">A lower-case identifier (letters, digits, underscores), or null for a unique name.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public async Task<string> CreateDatabaseAsync(string? name = null, CancellationToken cancellationToken = default)
    {
        name ??= "t_" + Guid.NewGuid().ToString("N")[..16];
        if (!DatabaseName().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a plain lower-case identifier of at most 63 characters.", nameof(name));
        }

        await using (var connection = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await connection.OpenAsync(cancellationToken).WaitAsync(TestTimeouts.Default, cancellationToken);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync(cancellationToken).WaitAsync(TestTimeouts.Default, cancellationToken);
        }

        return ConnectionString(name);
    }

    /// <summary>Stops the server at once (no checkpoint: its data is thrown away) and deletes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        string[] connectionStrings;
        lock (handedOut)
        {
            connectionStrings = [.. handedOut];
        }

        foreach (var connectionString in connectionStrings.Distinct())
        {
            // Idle pooled connections would otherwise outlive the server and fail later, elsewhere.
            using var connection = new NpgsqlConnection(connectionString);
            NpgsqlConnection.ClearPool(connection);
        }

        await StopAsync();
        TryDeleteDirectory(RootDirectory);
    }

    private async Task StopAsync()
    {
        if (!process.HasExited)
        {
            await RunAsync(BinDirectory, "pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "-t", "10", "stop"], RootDirectory, CancellationToken.None, throwOnFailure: false);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
            }
        }

        // Wait for the output pumps to drain before the log closes.
        await process.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
        process.Dispose();
        lock (log)
        {
            log.Dispose();
        }
    }

    /// <returns>null once a connection succeeded, otherwise why the server is not coming up.</returns>
    private async Task<string?> WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        var probe = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = SystemUser,
            Database = "postgres",
            Timeout = 2,
            Pooling = false,
        }.ConnectionString;

        var deadline = Stopwatch.StartNew();
        Exception? last = null;
        while (deadline.Elapsed < StartTimeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                await process.WaitForExitAsync(cancellationToken);
                var tail = Tail(LogPath);
                return tail.Contains("could not bind", StringComparison.OrdinalIgnoreCase)
                    ? $"could not bind the port (exit code {process.ExitCode})"
                    : $"the server exited with code {process.ExitCode}";
            }

            try
            {
                await using var connection = new NpgsqlConnection(probe);
                await connection.OpenAsync(cancellationToken);
                return null;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                last = e;
                await Task.Delay(100, cancellationToken);
            }
        }

        return $"no connection within {StartTimeout.TotalSeconds:0} s (last error: {last?.Message ?? "none"})";
    }

    private static PostgresServer Launch(string binDirectory, string root, int port, int ownerProcessId)
    {
        var logWriter = new StreamWriter(Path.Combine(root, "server.log"), append: true, Encoding.UTF8) { AutoFlush = true };
        var startInfo = CreateStartInfo("/bin/sh",
        [
            "-c", Watchdog, "gatehouse-pg-watchdog",
            ownerProcessId.ToString(CultureInfo.InvariantCulture),
            Path.Combine(binDirectory, "postgres"),
            "-D", Path.Combine(root, "data"),
            "-p", port.ToString(CultureInfo.InvariantCulture),
            "-k", Path.Combine(root, "sock"),
            "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off",
            "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
            "-c", "max_connections=500", // many portals, each with its own pool, share one test server
        ], root, asPostgres: RunsAsRoot);

        var child = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        DataReceivedEventHandler append = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (logWriter)
            {
                try
                {
                    logWriter.WriteLine(e.Data);
                }
                catch (ObjectDisposedException)
                {
                    // Output that arrives after the server was stopped has nowhere to go.
                }
            }
        };
        child.OutputDataReceived += append;
        child.ErrorDataReceived += append;
        try
        {
            child.Start();
        }
        catch
        {
            child.Dispose();
            logWriter.Dispose();
            throw;
        }

        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        return new PostgresServer(binDirectory, root, port, child, logWriter);
    }

    private static async Task InitializeClusterAsync(string binDirectory, string root, int ownerProcessId, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.Combine(root, "sock"));
        await File.WriteAllTextAsync(Path.Combine(root, OwnerFile), ownerProcessId.ToString(CultureInfo.InvariantCulture), cancellationToken);
        if (RunsAsRoot)
        {
            await RunAsync(null, "chown", ["-R", SystemUser, root], root, cancellationToken);
        }

        await RunAsync(binDirectory, "initdb",
            ["-D", Path.Combine(root, "data"), "-A", "trust", "-U", SystemUser, "--no-sync", "-E", "UTF8", "--locale=C"],
            root, cancellationToken);
    }

    /// <summary>
    /// Stops and deletes clusters whose test host died before disposing them, so that a
    /// crashed or killed run leaves nothing behind after the next one.
    /// </summary>
    private static async Task SweepAbandonedAsync(string binDirectory, CancellationToken cancellationToken)
    {
        foreach (var dir in Directory.EnumerateDirectories(TempBase, FolderPrefix + "*"))
        {
            var ownerFile = Path.Combine(dir, OwnerFile);
            if (!File.Exists(ownerFile))
            {
                // A folder being set up has no owner file for a moment; one that old lost it some other way.
                if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(dir) > TimeSpan.FromHours(1))
                {
                    TryDeleteDirectory(dir);
                }

                continue;
            }

            if (ReadOwner(ownerFile) is not { } text || !int.TryParse(text.Trim(), CultureInfo.InvariantCulture, out var owner) || IsAlive(owner))
            {
                continue;
            }

            var data = Path.Combine(dir, "data");
            if (File.Exists(Path.Combine(data, "postmaster.pid")))
            {
                await RunAsync(binDirectory, "pg_ctl", ["-D", data, "-m", "immediate", "-w", "-t", "10", "stop"], dir, cancellationToken, throwOnFailure: false);
            }

            TryDeleteDirectory(dir);
        }
    }

    /// <summary>The owner file's text, or null when its folder went meanwhile: its owner disposed it, or another test host swept it.</summary>
    private static string? ReadOwner(string ownerFile)
    {
        try
        {
            return File.ReadAllText(ownerFile);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var owner = Process.GetProcessById(pid);
            return !owner.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task RunAsync(string? binDirectory, string program, string[] arguments, string workingDirectory, CancellationToken cancellationToken, bool throwOnFailure = true)
    {
        var startInfo = CreateStartInfo(binDirectory, program, arguments, workingDirectory);
        using var child = new Process { StartInfo = startInfo };
        child.Start();
        var stdout = child.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = child.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await child.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        }
        catch (TimeoutException)
        {
            child.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{program} did not finish within 60 s.");
        }

        if (child.ExitCode != 0 && throwOnFailure)
        {
            throw new InvalidOperationException(
                $"{string.Join(' ', startInfo.ArgumentList.Prepend(startInfo.FileName))} failed with exit code {child.ExitCode}:\n{await stdout}{await stderr}");
        }
    }

    /// <summary>
    /// Runs a PostgreSQL program directly, or through <c>runuser -u postgres</c> when the
    /// tests run as root, which PostgreSQL refuses.
    /// </summary>
    private static ProcessStartInfo CreateStartInfo(string? binDirectory, string program, IEnumerable<string> arguments, string workingDirectory) =>
        CreateStartInfo(
            binDirectory is null ? program : Path.Combine(binDirectory, program),
            arguments,
            workingDirectory,
            asPostgres: RunsAsRoot && binDirectory is not null);

    private static ProcessStartInfo CreateStartInfo(string path, IEnumerable<string> arguments, string workingDirectory, bool asPostgres)
    {
        var startInfo = new ProcessStartInfo(asPostgres ? "runuser" : path)
        {
            // A working directory the postgres user may not enter makes its programs complain.
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        if (asPostgres)
        {
            foreach (var prefix in new[] { "-u", SystemUser, "--", path })
            {
                startInfo.ArgumentList.Add(prefix);
            }
        }

        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // The server must not pick up a developer's PG* settings.
        foreach (var variable in new[] { "PGDATA", "PGPORT", "PGHOST", "PGUSER", "PGDATABASE", "PGOPTIONS" })
        {
            startInfo.Environment.Remove(variable);
        }

        startInfo.Environment["LC_ALL"] = "C";
        return startInfo;
    }

    private static bool RunsAsRoot => Environment.IsPrivilegedProcess;

    // The postgres user must reach the folder, so a root's private TMPDIR will not do.
    private static string TempBase => RunsAsRoot ? "/tmp" : Path.GetTempPath();

    private static string CreateRootDirectory()
    {
        var root = Path.Combine(TempBase, FolderPrefix + Guid.NewGuid().ToString("N")[..12]);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(root);
        }
        else
        {
            Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return root;
    }

    private static void TryDeleteDirectory(string dir)
    {
        try
        {
            // The owner file goes last: a folder half deleted by a killed test host stays recognisable to the sweep.
            foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos().Where(e => e.Name != OwnerFile))
            {
                if (entry is DirectoryInfo subdirectory)
                {
                    subdirectory.Delete(recursive: true);
                }
                else
                {
                    entry.Delete();
                }
            }

            Directory.Delete(dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover temp folder must not fail the test that used the server.
        }
    }

    private static string Tail(string path, int lines = 40)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            return string.Join('\n', all.TakeLast(lines));
        }
        catch (IOException e)
        {
            return $"(no log: {e.Message})";
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex DatabaseName();
}
