using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gatehouse.Testing.Postgres;
using Npgsql;

namespace Gatehouse.Testing.Tests.Postgres;

public sealed class PostgresServerTests
{
    [PostgresFact]
    public async Task Server_serves_separate_databases_and_leaves_nothing_behind_when_disposed()
    {
        var server = await PostgresServer.StartAsync().DefaultTimeout();
        Assert.NotNull(server);
        int port, pid;
        string root;
        await using (server)
        {
            port = server.Port;
            pid = server.ProcessId;
            root = server.RootDirectory;

            var first = await server.CreateDatabaseAsync().DefaultTimeout();
            var second = await server.CreateDatabaseAsync().DefaultTimeout();
            Assert.NotEqual(first, second);

            Assert.Equal(1, await ScalarAsync<int>(first, "select 1"));
            Assert.Equal(1, await ScalarAsync<int>(second, "select 1"));
            await ScalarAsync<int>(first, "create table only_here (id int); select 0");
            Assert.Equal(1L, await ScalarAsync<long>(first, "select count(*) from pg_tables where tablename = 'only_here'"));
            Assert.Equal(0L, await ScalarAsync<long>(second, "select count(*) from pg_tables where tablename = 'only_here'"));
        }

        Assert.False(Directory.Exists(root), $"{root} should be deleted");
        Assert.False(IsRunning(pid), $"server process {pid} should have exited");
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(
            async () => await probe.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).DefaultTimeout());
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [PostgresFact]
    public async Task Server_shuts_down_by_itself_when_its_test_host_is_gone_and_the_next_start_removes_its_folder()
    {
        using var owner = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        var orphan = await PostgresServer.StartAsync(owner.Id, CancellationToken.None).DefaultTimeout();
        Assert.NotNull(orphan);
        var database = await orphan.CreateDatabaseAsync().DefaultTimeout();
        Assert.Equal(1, await ScalarAsync<int>(database, "select 1"));

        owner.Kill();
        await owner.WaitForExitAsync().DefaultTimeout();
        var stopped = Stopwatch.StartNew();
        while (IsRunning(orphan.ProcessId))
        {
            Assert.True(stopped.Elapsed < TestTimeouts.Default, "the server should stop once its owner is gone");
            await Task.Delay(100);
        }

        Assert.True(Directory.Exists(orphan.RootDirectory), "nobody has disposed the server yet");
        await using (var next = await PostgresServer.StartAsync().DefaultTimeout())
        {
            Assert.False(Directory.Exists(orphan.RootDirectory), "the next start should sweep the orphan's folder");
        }

        await orphan.DisposeAsync();
    }

    [Fact]
    public void Missing_binaries_skip_the_test_unless_postgres_is_required()
    {
        Assert.Equal(PostgresAvailability.SkipMessage, PostgresAvailability.SkipReasonFor(binDirectory: null, required: false));
        Assert.Null(PostgresAvailability.SkipReasonFor(binDirectory: null, required: true));
        Assert.Null(PostgresAvailability.SkipReasonFor("/usr/lib/postgresql/15/bin", required: false));
        Assert.Contains("GATEHOUSE_REQUIRE_POSTGRES=1", PostgresAvailability.SkipMessage, StringComparison.Ordinal);
    }

    internal static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync().DefaultTimeout();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync().DefaultTimeout())!;
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
