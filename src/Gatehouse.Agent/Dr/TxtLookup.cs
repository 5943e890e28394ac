using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Wire.Dns;

namespace Gatehouse.Agent.Dr;

/// <summary>
/// Asks DNS servers for the TXT records of one name (RFC 1035): a UDP query, and TCP when the
/// answer is truncated. Only what the DR trigger needs; the agent's own resolver is not involved,
/// so a DR check works whatever that resolver forwards to.
/// </summary>
internal static class TxtLookup
{
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
    /// <param name="socketMark">The mark of the agent's own sockets in transparent mode, so that its redirect rules let the query pass.</param>
    /// <returns>The records; empty when the name has none.</returns>
    /// <exception cref="IOException">No server answered, or every answer was an error.</exception>
    public static async Task<IReadOnlyList<string>> QueryAsync(string name, IReadOnlyList<IPEndPoint> servers, TimeSpan timeout, CancellationToken ct, int? socketMark = null)
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
                var answer = await AskUdpAsync(server, query, id, socketMark, limit.Token);
                if ((answer[2] & 0x02) != 0)
                {
                    answer = await AskTcpAsync(server, query, id, socketMark, limit.Token);
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
        if (name.Length > 253 || !Ascii.IsValid(name) || labels.Any(l => l.Length is 0 or > 63))
        {
            throw new ArgumentException($"'{name}' is not a DNS name", nameof(name));
        }

        return DnsMessage.Query(id, name, DnsTypes.Txt);
    }

    private static async Task<byte[]> AskUdpAsync(IPEndPoint server, byte[] query, ushort id, int? socketMark, CancellationToken ct)
    {
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        Wire.Sockets.SocketMark.ApplyIfSet(socket, socketMark);
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

    private static async Task<byte[]> AskTcpAsync(IPEndPoint server, byte[] query, ushort id, int? socketMark, CancellationToken ct)
    {
        using var client = new TcpClient(server.AddressFamily);
        Wire.Sockets.SocketMark.ApplyIfSet(client.Client, socketMark);
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

    /// <summary>
    /// Reads the TXT answers for <paramref name="name"/> from a DNS message: the records of that name,
    /// or of the names it is an alias of (CNAME), each with its strings joined; records of other
    /// names in the answer are not taken.
    /// </summary>
    /// <exception cref="InvalidDataException">The message is not an answer to this name, is cut short, or carries an error code.</exception>
    internal static IReadOnlyList<string> Parse(ReadOnlySpan<byte> message, string name)
    {
        if (message.Length < 12 || (message[2] & 0x80) == 0)
        {
            throw new InvalidDataException("not a DNS answer");
        }

        var rcode = message[3] & 0x0F;
        if (rcode == DnsResponseCodes.NameError)
        {
            return []; // NXDOMAIN: no record
        }

        if (rcode != DnsResponseCodes.NoError)
        {
            throw new InvalidDataException($"the server answered with error code {rcode}");
        }

        var asked = name.TrimEnd('.').ToLowerInvariant();
        var questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        var answers = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
        var at = 12;
        for (var i = 0; i < questions; i++)
        {
            var question = ReadName(message, ref at);
            if (question != asked)
            {
                throw new InvalidDataException($"the answer is for '{question}', not '{asked}'");
            }

            at += 4;
        }

        // The answer section may hold a CNAME chain before the TXT records it leads to.
        var owners = new HashSet<string>(StringComparer.Ordinal) { asked };
        var texts = new List<(string Owner, string Text)>();
        for (var i = 0; i < answers; i++)
        {
            var owner = ReadName(message, ref at);
            Need(message, at + 10);
            var type = BinaryPrimitives.ReadUInt16BigEndian(message[at..]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(message[(at + 8)..]);
            at += 10;
            Need(message, at + length);
            if (type == DnsTypes.Txt)
            {
                texts.Add((owner, ReadStrings(message.Slice(at, length))));
            }
            else if (type == DnsTypes.Cname && owners.Contains(owner))
            {
                var target = at;
                owners.Add(ReadName(message, ref target));
            }

            at += length;
        }

        var records = new List<string>();
        foreach (var (owner, text) in texts)
        {
            if (owners.Contains(owner))
            {
                records.Add(text);
            }
        }

        return records;
    }

    // Latin-1 keeps every byte as one character, so text that is not ASCII is seen as it is, not as '?'.
    private static string ReadStrings(ReadOnlySpan<byte> data)
    {
        var text = new StringBuilder();
        for (var p = 0; p < data.Length;)
        {
            var size = data[p];
            Need(data, p + 1 + size);
            text.Append(Encoding.Latin1.GetString(data.Slice(p + 1, size)));
            p += 1 + size;
        }

        return text.ToString();
    }

    private static string ReadName(ReadOnlySpan<byte> message, ref int at) =>
        DnsMessage.TryReadName(message, ref at, out var name, out var error) ? name : throw new InvalidDataException($"the DNS answer is not readable: {error}");

    private static void Need(ReadOnlySpan<byte> message, int end)
    {
        if (end > message.Length)
        {
            throw new InvalidDataException("the DNS answer is cut short");
        }
    }
}
