using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Testing;

namespace Gatehouse.Edge.Tests.TransactionLogs;

/// <summary>
/// A SIEM on loopback: accepts syslog over TCP and splits the octet-counted frames (RFC 6587 3.4.1),
/// failing on a frame whose length is wrong. With <c>read: false</c> it accepts and never reads.
/// </summary>
internal sealed class SyslogReceiver : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly bool _read;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<TcpClient> _clients = [];
    private readonly ConcurrentQueue<byte[]> _messages = new();
    private readonly Task _accepting;
    private int _connections;

    private SyslogReceiver(int port, bool read)
    {
        _read = read;
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public int Connections => Volatile.Read(ref _connections);

    public IReadOnlyList<byte[]> Messages => [.. _messages];

    public string? Error { get; private set; }

    public static SyslogReceiver Start(int port = 0, bool read = true) => new(port, read);

    public async Task<IReadOnlyList<byte[]>> WaitForAsync(int count)
    {
        await Eventually.TrueAsync(() => _messages.Count >= count || Error is not null, () => $"{_messages.Count} of {count} syslog messages arrived");
        Assert.Null(Error);
        return Messages;
    }

    /// <summary>Stops listening and closes every connection, as a SIEM that restarts.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();

        // The accept loop ends first, so that a client it took as the listener stopped is closed too.
        await _accepting.DefaultTimeout();
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _clients.Add(client);
                Interlocked.Increment(ref _connections);
                if (_read)
                {
                    _ = ReadAsync(client.GetStream());
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException
            || (e is InvalidOperationException && _stop.IsCancellationRequested))
        {
            // Stopped. An accept that starts after the listener stopped is refused with "Not listening"
            // (InvalidOperationException), not cancelled: it failed a full run once on 2026-12-06.
        }
    }

    private async Task ReadAsync(NetworkStream stream)
    {
        var buffer = new byte[64 * 1024];
        var pending = new List<byte>();
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, _stop.Token)) > 0)
            {
                pending.AddRange(buffer.AsSpan(0, read));
                while (TryTakeFrame(pending, out var message))
                {
                    _messages.Enqueue(message);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // closed
        }
        catch (FormatException e)
        {
            Error = e.Message;
        }
    }

    private static bool TryTakeFrame(List<byte> pending, out byte[] message)
    {
        message = [];
        var space = pending.IndexOf((byte)' ');
        if (space < 0)
        {
            if (pending.Count > 10)
            {
                throw new FormatException("no octet count before the message");
            }

            return false;
        }

        var digits = Encoding.ASCII.GetString(pending.GetRange(0, space).ToArray());
        if (digits.Length == 0 || digits[0] == '0' || !digits.All(char.IsAsciiDigit))
        {
            throw new FormatException($"bad octet count \"{digits}\"");
        }

        var length = int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);
        if (pending.Count < space + 1 + length)
        {
            return false;
        }

        message = pending.GetRange(space + 1, length).ToArray();
        pending.RemoveRange(0, space + 1 + length);

        // Every message of ours starts "<PRI>1 ": a wrong count lands elsewhere.
        if (message[0] != (byte)'<')
        {
            throw new FormatException("a frame does not start with <PRI>: the octet count is wrong");
        }

        return true;
    }
}
