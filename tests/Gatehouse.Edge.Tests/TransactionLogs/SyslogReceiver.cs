using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Testing;

namespace Gatehouse.Edge.Tests.TransactionLogs;

/// <summary>
/// A SIEM on loopback: accepts syslog over TCP and splits the octet-counted frames (RFC 6587 3.4.1),
/// failing on a frame whose length is wrong. With <c>read: false</c> it accepts and never reads.
/// </summary>
internal sealed class SyslogReceiver : IDisposable
{
    private readonly LoopbackTcpServer _server;
    private readonly ConcurrentQueue<byte[]> _messages = new();

    private SyslogReceiver(int port, bool read) =>
        _server = new LoopbackTcpServer(port, read ? ReadAsync : HoldOpenAsync);

    public int Port => _server.Port;

    public string Endpoint => $"127.0.0.1:{Port}";

    public int Connections => _server.Accepted;

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
    public void Dispose() => _server.Dispose();

    private static Task HoldOpenAsync(Socket socket, CancellationToken ct) => Task.Delay(Timeout.Infinite, ct);

    private async Task ReadAsync(Socket socket, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        var pending = new List<byte>();
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, ct)) > 0)
            {
                pending.AddRange(buffer.AsSpan(0, read));
                while (TryTakeFrame(pending, out var message))
                {
                    _messages.Enqueue(message);
                }
            }
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
