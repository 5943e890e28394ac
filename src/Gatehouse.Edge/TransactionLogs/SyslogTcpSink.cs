using System.Buffers;
using System.Net.Sockets;
using Gatehouse.Edge.Hosting;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Edge.TransactionLogs;

/// <summary>
/// Streams records to a SIEM as RFC 5424 syslog over TCP with octet-counting framing. It connects on
/// the first batch, notices a SIEM that closed the connection (a SIEM never sends, so a finished read
/// means it is gone), and reconnects with backoff; a batch that could not be sent is sent again on the
/// next connection, so a SIEM may see a record twice but loses none the sink knew to be unsent.
/// </summary>
internal sealed class SyslogTcpSink : TransactionLogSink
{
    /// <summary>A send that takes longer means a SIEM that stopped reading: the connection is dropped and made again.</summary>
    internal static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    private readonly string _endpoint;
    private readonly string _host;
    private readonly int _port;
    private readonly SyslogFormatter _formatter;
    private readonly ArrayBufferWriter<byte> _frames = new(256 * 1024);
    private Connection? _connection;
    private int _failures;

    public SyslogTcpSink(TransactionLogOptions options, TimeProvider time, ILogger logger)
        : base("syslog", options, time, logger)
    {
        _endpoint = options.SyslogEndpoint!;
        HostPort.TryParse(_endpoint, out _host, out _port);
        _formatter = new SyslogFormatter(options.SyslogFacility, Environment.MachineName, Environment.ProcessId);
    }

    protected override async ValueTask<BatchOutcome> WriteBatchAsync(List<TransactionLogRecord> batch, CancellationToken abort)
    {
        _frames.ResetWrittenCount();
        foreach (var record in batch)
        {
            _formatter.AppendFrame(_frames, record);
        }

        while (true)
        {
            abort.ThrowIfCancellationRequested();
            string error;
            try
            {
                if (_connection is not { IsLost: false })
                {
                    _connection?.Dispose();
                    _connection = null;
                    _connection = await ConnectAsync(abort).ConfigureAwait(false);
                }

                using (var deadline = new CancellationTokenSource(SendTimeout, Time))
                using (var linked = CancellationTokenSource.CreateLinkedTokenSource(abort, deadline.Token))
                {
                    await _connection.Stream.WriteAsync(_frames.WrittenMemory, linked.Token).ConfigureAwait(false);
                }

                _failures = 0;
                return new BatchOutcome(batch.Count, DropReason.WriteError);
            }
            catch (OperationCanceledException) when (!abort.IsCancellationRequested)
            {
                error = "The SIEM did not take the messages in time.";
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
            {
                error = e.Message;
            }

            _connection?.Dispose();
            _connection = null;
            var delay = Backoff(_failures);
            _failures++;
            if (_failures == 1)
            {
                TransactionLogLog.SyslogFailed(Logger, _endpoint, error, delay);
            }
            else
            {
                TransactionLogLog.SyslogFailedAgain(Logger, _endpoint, _failures, error, delay);
            }

            await Task.Delay(delay, Time, abort).ConfigureAwait(false);
        }
    }

    protected override ValueTask CloseAsync()
    {
        _connection?.Dispose();
        _connection = null;
        return ValueTask.CompletedTask;
    }

    private async Task<Connection> ConnectAsync(CancellationToken abort)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            using (var deadline = new CancellationTokenSource(ConnectTimeout, Time))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(abort, deadline.Token))
            {
                try
                {
                    await socket.ConnectAsync(_host, _port, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!abort.IsCancellationRequested)
                {
                    throw new IOException($"Connecting to {_endpoint} timed out after {ConnectTimeout.TotalSeconds:0} s.");
                }
            }

            var connection = new Connection(socket);
            TransactionLogLog.SyslogConnected(Logger, _endpoint);
            return connection;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>One TCP connection to the SIEM, and a read that finishes when the SIEM closes it.</summary>
    private sealed class Connection : IDisposable
    {
        private readonly Socket _socket;
        private volatile bool _lost;

        public Connection(Socket socket)
        {
            _socket = socket;
            Stream = new NetworkStream(socket, ownsSocket: true);
            _ = WatchAsync();
        }

        public NetworkStream Stream { get; }

        public bool IsLost => _lost;

        public void Dispose()
        {
            _lost = true;
            Stream.Dispose();
        }

        private async Task WatchAsync()
        {
            var buffer = new byte[512];
            try
            {
                // Syslog receivers send nothing; whatever they do send is read and ignored.
                while (await _socket.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false) > 0)
                {
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Reset, or closed by Dispose: either way the connection is done.
            }

            _lost = true;
        }
    }
}
