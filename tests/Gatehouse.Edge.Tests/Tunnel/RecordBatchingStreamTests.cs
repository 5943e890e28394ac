using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Gatehouse.Testing;
using Gatehouse.Tunnel;

namespace Gatehouse.Edge.Tests.Tunnel;

/// <summary>
/// <see cref="RecordBatchingStream"/> under a real TLS 1.3 stream on a loopback socket: how many socket calls
/// the records take, and that every byte arrives as sent.
/// </summary>
public sealed class RecordBatchingStreamTests : IAsyncLifetime
{
    private const int Record = 16 * 1024;
    private TlsPair _pair = null!;

    public async Task InitializeAsync() => _pair = await TlsPair.StartAsync();

    public async Task DisposeAsync() => await _pair.DisposeAsync();

    [Fact]
    public async Task Records_written_between_two_flushes_go_out_in_one_send()
    {
        _pair.Batching.BatchWrites = true;
        var sendsBefore = _pair.ClientSocket.Writes;

        await WriteRecordsAsync(_pair.Client, Bytes(4 * Record));
        Assert.Equal(sendsBefore, _pair.ClientSocket.Writes);
        Assert.True(_pair.Batching.Held > 4 * Record, $"held {_pair.Batching.Held} bytes");

        await _pair.Client.FlushAsync().DefaultTimeout();
        Assert.Equal(sendsBefore + 1, _pair.ClientSocket.Writes);
        Assert.Equal(0, _pair.Batching.Held);
        Assert.Equal(Bytes(4 * Record), await ReadExactlyAsync(_pair.Server, 4 * Record));
    }

    [Fact]
    public async Task Without_batching_each_record_is_a_send_of_its_own()
    {
        var sendsBefore = _pair.ClientSocket.Writes;

        await WriteRecordsAsync(_pair.Client, Bytes(4 * Record));

        Assert.Equal(sendsBefore + 4, _pair.ClientSocket.Writes);
        Assert.Equal(Bytes(4 * Record), await ReadExactlyAsync(_pair.Server, 4 * Record));
    }

    [Fact]
    public async Task More_than_the_capacity_goes_out_without_waiting_for_the_flush()
    {
        _pair.Batching.BatchWrites = true;
        var total = RecordBatchingStream.WriteCapacity + (4 * Record);

        var reading = ReadExactlyAsync(_pair.Server, total);
        await _pair.Client.WriteAsync(Bytes(total)).AsTask().DefaultTimeout();

        Assert.True(_pair.Batching.Held < RecordBatchingStream.WriteCapacity, $"held {_pair.Batching.Held} bytes");
        await _pair.Client.FlushAsync().DefaultTimeout();
        Assert.Equal(Bytes(total), await reading.DefaultTimeout());
    }

    [Fact]
    public async Task Several_records_come_in_with_one_receive()
    {
        await _pair.Server.WriteAsync(Bytes(4 * Record)).AsTask().DefaultTimeout();
        await Task.Delay(100);
        var receivesBefore = _pair.ClientSocket.Reads;

        var received = await ReadExactlyAsync(_pair.Client, 4 * Record);

        Assert.Equal(Bytes(4 * Record), received);
        var receives = _pair.ClientSocket.Reads - receivesBefore;
        Assert.True(receives <= 3, $"{receives} receives for four records");
    }

    [Fact]
    public async Task A_zero_byte_read_waits_for_data_and_then_the_data_is_all_there()
    {
        var waiting = _pair.Client.ReadAsync(Memory<byte>.Empty).AsTask();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);

        await _pair.Server.WriteAsync(Bytes(3 * Record)).AsTask().DefaultTimeout();

        Assert.Equal(0, await waiting.DefaultTimeout());
        Assert.Equal(Bytes(3 * Record), await ReadExactlyAsync(_pair.Client, 3 * Record));
    }

    [Fact]
    public async Task Random_writes_and_flushes_arrive_intact_both_ways()
    {
        _pair.Batching.BatchWrites = true;
        var random = new Random(20261205);
        var sent = new MemoryStream();
        var total = 0;
        var sizes = new int[200];
        for (var i = 0; i < sizes.Length; i++)
        {
            sizes[i] = random.Next(1, 3 * Record);
            total += sizes[i];
        }

        var reading = ReadExactlyAsync(_pair.Server, total);
        foreach (var size in sizes)
        {
            var chunk = new byte[size];
            random.NextBytes(chunk);
            await _pair.Client.WriteAsync(chunk).AsTask().DefaultTimeout();
            sent.Write(chunk);
            if (random.Next(4) == 0)
            {
                await _pair.Client.FlushAsync().DefaultTimeout();
            }
        }

        await _pair.Client.FlushAsync().DefaultTimeout();
        Assert.Equal(sent.ToArray(), await reading.DefaultTimeout());

        var back = new byte[total];
        random.NextBytes(back);
        var readingBack = ReadExactlyAsync(_pair.Client, back.Length);
        await _pair.Server.WriteAsync(back).AsTask().DefaultTimeout();
        Assert.Equal(back, await readingBack.DefaultTimeout());
    }

    [Fact]
    public async Task A_quiet_connection_holds_no_memory_between_what_it_carries()
    {
        _pair.Batching.BatchWrites = true;

        // After the handshake (whose messages are read a few bytes at a time) nothing is held.
        Assert.False(_pair.Batching.HoldsMemory);

        await WriteRecordsAsync(_pair.Client, Bytes(2 * Record));
        Assert.True(_pair.Batching.HoldsMemory);
        await _pair.Client.FlushAsync().DefaultTimeout();
        Assert.False(_pair.Batching.HoldsMemory);

        await _pair.Server.WriteAsync(Bytes(3 * Record)).AsTask().DefaultTimeout();
        await Task.Delay(100);
        var first = new byte[100];
        await _pair.Client.ReadExactlyAsync(first).AsTask().DefaultTimeout();
        Assert.True(_pair.Batching.HoldsMemory, "three records came with one receive, and the TLS stream has taken one");
        var rest = await ReadExactlyAsync(_pair.Client, (3 * Record) - first.Length);
        Assert.Equal(Bytes(3 * Record), first.Concat(rest).ToArray());
        Assert.False(_pair.Batching.HoldsMemory);
    }

    [Fact]
    public async Task The_end_of_the_stream_reads_as_zero()
    {
        await _pair.Server.ShutdownAsync().DefaultTimeout();
        _pair.ServerSocket.Socket.Shutdown(SocketShutdown.Send);

        var buffer = new byte[100];
        Assert.Equal(0, await _pair.Client.ReadAsync(buffer).AsTask().DefaultTimeout());
    }

    /// <summary>Writes a record's worth at a time, as the pipe writer of a link writes its 16 KiB segments.</summary>
    private static async Task WriteRecordsAsync(Stream tls, byte[] bytes)
    {
        for (var offset = 0; offset < bytes.Length; offset += Record)
        {
            await tls.WriteAsync(bytes.AsMemory(offset, Math.Min(Record, bytes.Length - offset))).AsTask().DefaultTimeout();
        }
    }

    private static byte[] Bytes(int count)
    {
        var bytes = new byte[count];
        for (var i = 0; i < count; i++)
        {
            bytes[i] = (byte)(i * 7);
        }

        return bytes;
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int count)
    {
        var buffer = new byte[count];
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        await stream.ReadExactlyAsync(buffer, timeout.Token);
        return buffer;
    }

    /// <summary>A stream over a socket that counts its receives and sends.</summary>
    private sealed class CountingSocketStream(Socket socket) : Stream
    {
        private readonly NetworkStream _inner = new(socket, ownsSocket: true);
        private int _reads;
        private int _writes;

        public Socket Socket => socket;

        public int Reads => Volatile.Read(ref _reads);

        public int Writes => Volatile.Read(ref _writes);

        public override bool CanRead => true;

        public override bool CanWrite => true;

        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await _inner.ReadAsync(buffer, cancellationToken);
            if (buffer.Length > 0)
            {
                Interlocked.Increment(ref _reads);
            }

            return n;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _writes);
            return _inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>
    /// A TLS 1.3 connection on loopback: the client's TLS stream over a <see cref="RecordBatchingStream"/> over
    /// a counting socket stream, the server's TLS stream over a counting socket stream.
    /// </summary>
    private sealed class TlsPair : IAsyncDisposable
    {
        private TlsPair(SslStream client, RecordBatchingStream batching, CountingSocketStream clientSocket, SslStream server, CountingSocketStream serverSocket)
        {
            Client = client;
            Batching = batching;
            ClientSocket = clientSocket;
            Server = server;
            ServerSocket = serverSocket;
        }

        public SslStream Client { get; }

        public RecordBatchingStream Batching { get; }

        public CountingSocketStream ClientSocket { get; }

        public SslStream Server { get; }

        public CountingSocketStream ServerSocket { get; }

        public static async Task<TlsPair> StartAsync()
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen();
            var clientSocket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            var accepting = listener.AcceptAsync();
            await clientSocket.ConnectAsync(listener.LocalEndPoint!);
            var serverSocket = await accepting;
            serverSocket.NoDelay = true;

            var clientCounting = new CountingSocketStream(clientSocket);
            var batching = new RecordBatchingStream(clientCounting);
            var client = new SslStream(batching, leaveInnerStreamOpen: false, (_, _, _, _) => true);
            var serverCounting = new CountingSocketStream(serverSocket);
            var server = new SslStream(serverCounting, leaveInnerStreamOpen: false);
            using var certificate = TestCertificates.SelfSigned("localhost");
            await Task.WhenAll(
                client.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", EnabledSslProtocols = SslProtocols.Tls13 }),
                server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate, EnabledSslProtocols = SslProtocols.Tls13 })).DefaultTimeout();
            return new TlsPair(client, batching, clientCounting, server, serverCounting);
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Server.DisposeAsync();
        }
    }
}
