using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Agent.Dr;

/// <summary>
/// Asks DNS servers for the TXT records of one name (RFC 1035): a UDP query, and TCP when the
/// answer is truncated. Only what the DR trigger needs; the agent's own resolver is not involved,
/// so a DR check works whatever that resolver forwards to.
/// </summary>
internal static class TxtLookup
{
    private const ushort TypeTxt = 16;
    private const ushort ClassIn = 1;

    /// <summary>The name servers of <c>/etc/resolv.conf</c>, on port 53.</summary>
    public static IReadOnlyList<IPEndPoint> SystemServers(string path = "/etc/resolv.conf")
    {
        var servers = new List<IPEndPoint>();
        if (!File.Exists(path))
        {
            return servers;
        }

        foreach (var line in File.ReadLines(path))
        {
            var words = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (words is ["nameserver", var address, ..] && IPAddress.TryParse(address, out var ip))
            {
                servers.Add(new IPEndPoint(ip, 53));
            }
        }

        return servers;
    }

    /// <summary>The TXT records of <paramref name="name"/>, each with its strings joined, from the first server that answers.</summary>
    /// <param name="name">The name.</param>
    /// <param name="servers">The servers to ask, in order.</param>
    /// <param name="timeout">How long to wait for each.</param>
    /// <param name="ct">Cancels the lookup.</param>
    /// <returns>The records; empty when the name has none.</returns>
    /// <exception cref="IOException">No server answered, or every answer was an error.</exception>
    public static async Task<IReadOnlyList<string>> QueryAsync(string name, IReadOnlyList<IPEndPoint> servers, TimeSpan timeout, CancellationToken ct)
    {
        var errors = new List<string>();
        foreach (var server in servers)
        {
            var id = (ushort)RandomNumberGenerator.GetInt32(ushort.MaxValue + 1);
            var query = Query(id, name);
            try
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
                limit.CancelAfter(timeout);
                var answer = await AskUdpAsync(server, query, id, limit.Token);
                if ((answer[2] & 0x02) != 0)
                {
                    answer = await AskTcpAsync(server, query, id, limit.Token);
                }

                return Parse(answer, name);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                errors.Add($"{server}: no answer within {timeout.TotalSeconds:0.#} s");
            }
            catch (Exception e) when (e is SocketException or IOException or InvalidDataException)
            {
                errors.Add($"{server}: {e.Message}");
            }
        }

        throw new IOException(servers.Count == 0 ? "no DNS server to ask" : "no DNS server answered: " + string.Join("; ", errors));
    }

    private static byte[] Query(ushort id, string name)
    {
        var labels = name.TrimEnd('.').Split('.');
        var buffer = new List<byte>(12 + name.Length + 6);
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(header, id);
        header[2] = 0x01; // recursion desired
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], 1);
        buffer.AddRange(header.ToArray());
        foreach (var label in labels)
        {
            var bytes = Encoding.ASCII.GetBytes(label);
            if (bytes.Length is 0 or > 63)
            {
                throw new ArgumentException($"'{name}' is not a DNS name", nameof(name));
            }

            buffer.Add((byte)bytes.Length);
            buffer.AddRange(bytes);
        }

        buffer.AddRange([0, 0, (byte)TypeTxt, 0, (byte)ClassIn]);
        return [.. buffer];
    }

    private static async Task<byte[]> AskUdpAsync(IPEndPoint server, byte[] query, ushort id, CancellationToken ct)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        await socket.ConnectAsync(server, ct);
        await socket.SendAsync(query, SocketFlags.None, ct);
        var buffer = new byte[4096];
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);

            // Answers to other queries (a late one, a spoofed one) are not ours.
            if (read >= 12 && BinaryPrimitives.ReadUInt16BigEndian(buffer) == id)
            {
                return buffer[..read];
            }
        }
    }

    private static async Task<byte[]> AskTcpAsync(IPEndPoint server, byte[] query, ushort id, CancellationToken ct)
    {
        using var client = new TcpClient(server.AddressFamily);
        await client.ConnectAsync(server, ct);
        var stream = client.GetStream();
        var framed = new byte[query.Length + 2];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
        query.CopyTo(framed, 2);
        await stream.WriteAsync(framed, ct);
        var length = new byte[2];
        await stream.ReadExactlyAsync(length, ct);
        var answer = new byte[BinaryPrimitives.ReadUInt16BigEndian(length)];
        await stream.ReadExactlyAsync(answer, ct);
        return answer.Length >= 12 && BinaryPrimitives.ReadUInt16BigEndian(answer) == id ? answer : throw new InvalidDataException("the TCP answer is not to this query");
    }

    /// <summary>Reads the TXT answers for <paramref name="name"/> from a DNS message.</summary>
    internal static IReadOnlyList<string> Parse(ReadOnlySpan<byte> message, string name)
    {
        if (message.Length < 12 || (message[2] & 0x80) == 0)
        {
            throw new InvalidDataException("not a DNS answer");
        }

        var rcode = message[3] & 0x0F;
        if (rcode == 3)
        {
            return []; // NXDOMAIN: no record
        }

        if (rcode != 0)
        {
            throw new InvalidDataException($"the server answered with error code {rcode}");
        }

        var questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        var answers = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
        var at = 12;
        for (var i = 0; i < questions; i++)
        {
            at = SkipName(message, at) + 4;
        }

        var records = new List<string>();
        for (var i = 0; i < answers; i++)
        {
            at = SkipName(message, at);
            Need(message, at + 10);
            var type = BinaryPrimitives.ReadUInt16BigEndian(message[at..]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(message[(at + 8)..]);
            at += 10;
            Need(message, at + length);
            if (type == TypeTxt)
            {
                var text = new StringBuilder();
                var data = message.Slice(at, length);
                for (var p = 0; p < data.Length;)
                {
                    var size = data[p];
                    Need(data, p + 1 + size);
                    text.Append(Encoding.ASCII.GetString(data.Slice(p + 1, size)));
                    p += 1 + size;
                }

                records.Add(text.ToString());
            }

            at += length;
        }

        return records;
    }

    private static int SkipName(ReadOnlySpan<byte> message, int at)
    {
        while (true)
        {
            Need(message, at + 1);
            var length = message[at];
            if ((length & 0xC0) == 0xC0)
            {
                return at + 2; // a pointer ends the name
            }

            if (length == 0)
            {
                return at + 1;
            }

            at += 1 + length;
        }
    }

    private static void Need(ReadOnlySpan<byte> message, int end)
    {
        if (end > message.Length)
        {
            throw new InvalidDataException("the DNS answer is cut short");
        }
    }
}
