using System.Net;
using System.Net.Sockets;
using Gatehouse.Edge.Hosting;
using Gatehouse.Testing;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Edge.Tests.Hosting;

/// <summary>
/// The edge's accept loop when the process is out of descriptors: an accept that fails with EMFILE is given by the test,
/// since lowering this process's own descriptor limit would fail every other test running beside it.
/// </summary>
public sealed class PausingSocketTransportTests : IDisposable
{
    private readonly Socket _listening = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly SocketConnectionContextFactory _connections = new(new SocketConnectionFactoryOptions(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
    private readonly ListLogger<PausingSocketTransport> _logger = new();

    public PausingSocketTransportTests()
    {
        _listening.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listening.Listen();
    }

    public void Dispose()
    {
        _listening.Dispose();
        _connections.Dispose();
    }

    [Fact]
    public async Task Out_of_descriptors_it_waits_between_tries_and_takes_the_waiting_client_once_it_can()
    {
        var tries = 0;
        var full = true;
        await using var listener = new PausingSocketTransport.Listener(_listening, async ct =>
        {
            Interlocked.Increment(ref tries);
            if (Volatile.Read(ref full))
            {
                throw new SocketException((int)SocketError.TooManyOpenSockets);
            }

            return await _listening.AcceptAsync(ct);
        }, _connections, _logger);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.EndPoint);

        var accepting = listener.AcceptAsync().AsTask();
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var triesWhileFull = Volatile.Read(ref tries);
        Volatile.Write(ref full, false);
        await using var connection = await accepting.WaitAsync(TimeSpan.FromSeconds(10));

        // 10, 20, 40 … 640 ms apart: eight tries in 1.5 s, where Kestrel's own loop tried (and threw) without a pause.
        Assert.InRange(triesWhileFull, 4, 12);
        Assert.NotNull(connection);
        Assert.Equal(client.LocalEndPoint, connection.RemoteEndPoint);
        var paused = Assert.Single(_logger.Entries, e => e.EventId == 1020);
        Assert.Equal(LogLevel.Warning, paused.Level);
        Assert.Contains("LimitNOFILE", paused.Message, StringComparison.Ordinal);
        Assert.Single(_logger.Entries, e => e.EventId == 1021);
    }

    [Fact]
    public async Task A_client_that_reset_in_the_backlog_is_skipped_at_once()
    {
        var tries = 0;
        await using var listener = new PausingSocketTransport.Listener(_listening, async ct =>
        {
            if (Interlocked.Increment(ref tries) == 1)
            {
                throw new SocketException((int)SocketError.ConnectionAborted);
            }

            return await _listening.AcceptAsync(ct);
        }, _connections, _logger);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.EndPoint);

        var started = System.Diagnostics.Stopwatch.StartNew();
        await using var connection = await listener.AcceptAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.NotNull(connection);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(1), $"took {started.Elapsed}");
        Assert.Empty(_logger.Entries);
    }

    [Fact]
    public async Task Unbinding_ends_a_waiting_accept_with_no_connection()
    {
        await using var listener = new PausingSocketTransport.Listener(_listening, ct => _listening.AcceptAsync(ct), _connections, _logger);
        var accepting = listener.AcceptAsync().AsTask();

        await listener.UnbindAsync();

        Assert.Null(await accepting.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task It_binds_where_it_is_told_and_reports_the_port_it_got()
    {
        using var transport = new PausingSocketTransport(new SocketConnectionFactoryOptions(), _logger);

        await using var listener = await transport.BindAsync(new IPEndPoint(IPAddress.Loopback, 0));
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.EndPoint);
        await using var connection = await listener.AcceptAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.NotEqual(0, ((IPEndPoint)listener.EndPoint).Port);
        Assert.NotNull(connection);
        await connection.Transport.Output.WriteAsync("hi"u8.ToArray());
        var buffer = new byte[2];
        Assert.Equal(2, await client.ReceiveAsync(buffer));
        Assert.Equal("hi"u8.ToArray(), buffer);
    }
}
