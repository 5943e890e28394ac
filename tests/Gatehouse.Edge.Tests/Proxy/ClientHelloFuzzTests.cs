using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Testing;
using Gatehouse.Wire.Tls;

namespace Gatehouse.Edge.Tests.Proxy;

/// <summary>
/// The server name the edge decides a CONNECT or tunnel flow by is read out of the ClientHello by its own parser. It must
/// never throw, must read the same whatever way the bytes arrive, and must not read a name other than the one a TLS
/// server reads out of the same bytes: one that did would let a client be judged by one name and served by another.
/// </summary>
[Trait(Fuzzing.Trait, Fuzzing.Category)]
public sealed class ClientHelloFuzzTests
{
    /// <summary>The 16-bit lengths of a server_name extension, from its data length: the data's, the list's, the name's.</summary>
    private static readonly int[] ServerNameLengths = [0, 2, 5];

    [Fact]
    public async Task Mutated_ClientHellos_read_alike_however_they_arrive_and_never_as_another_name_than_a_server_reads()
    {
        var seed = Fuzzing.Seed(20261210);
        var random = new Random(seed);
        byte[][] originals = [await ClientHelloTests.CaptureAsync("www.example.test"), await ClientHelloTests.CaptureAsync("a.b.example"), await ClientHelloTests.CaptureAsync(null)];
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=server", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        var failures = new List<string>();
        var compared = 0;
        for (var i = 0; i < Fuzzing.Inputs(1500) && failures.Count < 10; i++)
        {
            var (mutation, bytes) = Mutate(random, originals[i % originals.Length]);
            ClientHelloStatus whole;
            string? name;
            try
            {
                whole = ClientHello.TryReadServerName(new ReadOnlySequence<byte>(bytes), out name);
                var (pieces, pieceName) = ReadInPieces(random, bytes);
                if ((pieces, pieceName) != (whole, name))
                {
                    failures.Add($"whole: {whole} {name}; in pieces: {pieces} {pieceName} ← {mutation}: {Convert.ToHexString(bytes)}");
                    continue;
                }
            }
            catch (Exception e)
            {
                failures.Add($"{e.GetType().Name}: {e.Message} ← {mutation}: {Convert.ToHexString(bytes)}");
                continue;
            }

            // Only what the edge would pass on to a server matters here: a name it read, or no name. .NET's server is a
            // fair judge of a ClientHello in one record only: it reads the first record alone, so out of one split over
            // records it reads no name, or one with the next record's header in it ("www.examp\u0016\u0003\u0001\u0000wle", .NET 10).
            if (whole != ClientHelloStatus.Found || i % 3 != 0 || !InOneRecord(bytes))
            {
                continue;
            }

            compared++;
            // A name other than the edge's would be a client judged by one name and served by another.
            if (await ServerReadsAsync(bytes, certificate) is { Asked: true, Name: { Length: > 0 } served } && !SameName(served, name))
            {
                failures.Add($"the edge reads {name ?? "no name"}, .NET's TLS server {served} ← {mutation}: {Convert.ToHexString(bytes)}");
            }
        }

        Assert.True(failures.Count == 0, $"{Fuzzing.Describe(seed)}: {failures.Count} ClientHellos:\n{string.Join('\n', failures)}");
        Assert.True(compared > 50, $"{Fuzzing.Describe(seed)}: only {compared} mutants read as a ClientHello were compared with a server");
    }

    private static bool SameName(string server, string? edge) => string.Equals(server.TrimEnd('.'), edge, StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether the first record holds the whole handshake message (its 4-byte header and the length it gives).</summary>
    private static bool InOneRecord(byte[] bytes) =>
        bytes.Length >= 9 && BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(3)) >= 4 + ((bytes[6] << 16) | (bytes[7] << 8) | bytes[8]);

    /// <summary>Reads <paramref name="bytes"/> as the edge does, the first bytes again each time more arrive, cut at random.</summary>
    private static (ClientHelloStatus, string?) ReadInPieces(Random random, byte[] bytes)
    {
        var reader = new ClientHelloReader();
        var status = ClientHelloStatus.NeedMore;
        string? name = null;
        for (var length = 0; status == ClientHelloStatus.NeedMore && length < bytes.Length;)
        {
            length = Math.Min(bytes.Length, length + random.Next(1, 300));
            status = reader.Read(new ReadOnlySequence<byte>(bytes, 0, length), out name);
        }

        return (status, name);
    }

    /// <summary>What .NET's TLS server reads as the server name of <paramref name="hello"/>, if it gets as far as asking.</summary>
    private static async Task<(bool Asked, string? Name)> ServerReadsAsync(byte[] hello, X509Certificate2 certificate)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
        using var accepted = await listener.AcceptTcpClientAsync();
        await client.GetStream().WriteAsync(hello);
        client.Client.Shutdown(SocketShutdown.Send);
        var (asked, name) = (false, (string?)null);
        await using var tls = new SslStream(accepted.GetStream());
        try
        {
            await tls.AuthenticateAsServerAsync(
                (_, info, _, _) =>
                {
                    (asked, name) = (true, info.ServerName);
                    return ValueTask.FromResult(new SslServerAuthenticationOptions { ServerCertificate = certificate });
                },
                null).WaitAsync(TestTimeouts.Default);
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or ArgumentException)
        {
            // Most mutants end the handshake; what counts is the name it was asked for before.
        }

        return (asked, name);
    }

    private static (string Mutation, byte[] Bytes) Mutate(Random random, byte[] hello)
    {
        var message = ClientHelloTests.Message(hello);
        switch (random.Next(6))
        {
            case 0:
                return ("as sent", ClientHelloTests.Fragment(message, random.Next(1, 400)));
            case 1:
            {
                var flipped = (byte[])message.Clone();
                for (var n = random.Next(1, 4); n > 0; n--)
                {
                    flipped[random.Next(flipped.Length)] = (byte)random.Next(256);
                }

                return ("bytes of the message changed", ClientHelloTests.Fragment(flipped, random.Next(50, 20_000)));
            }

            case 2:
            {
                // A length of the server_name extension, off by a little.
                var changed = (byte[])message.Clone();
                var at = ServerNameAt(changed);
                if (at < 0)
                {
                    return ("as sent, no server name to change", hello);
                }

                var field = at + ServerNameLengths[random.Next(ServerNameLengths.Length)];
                var value = BinaryPrimitives.ReadUInt16BigEndian(changed.AsSpan(field));
                BinaryPrimitives.WriteUInt16BigEndian(changed.AsSpan(field), (ushort)(value + random.Next(-3, 4)));
                return ($"server_name length at {field} changed", ClientHelloTests.Fragment(changed, random.Next(50, 20_000)));
            }

            case 3:
            {
                // Bytes cut out of, or put into, the message, with its length left as it was.
                var at = random.Next(message.Length);
                var count = random.Next(1, 8);
                byte[] changed = random.Next(2) == 0
                    ? [.. message[..at], .. message[Math.Min(message.Length, at + count)..]]
                    : [.. message[..at], .. RandomNumberGenerator.GetBytes(count), .. message[at..]];
                return ($"{count} bytes cut or put at {at}", ClientHelloTests.Fragment(changed, random.Next(50, 20_000)));
            }

            case 4:
            {
                // Another record, or a stray one, in front of or among the fragments.
                var records = ClientHelloTests.Fragment(message, random.Next(20, 200));
                var at = random.Next(2) == 0 ? 0 : random.Next(records.Length);
                byte[] stray = [(byte)random.Next(0x14, 0x19), 0x03, (byte)random.Next(4), 0x00, 0x01, (byte)random.Next(256)];
                return ($"stray record at {at}", [.. records[..at], .. stray, .. records[at..]]);
            }

            default:
            {
                // A record header's length or version changed.
                var records = ClientHelloTests.Fragment(message, random.Next(100, 600));
                records[random.Next(1, 5)] = (byte)random.Next(256);
                return ("first record header changed", records);
            }
        }
    }

    /// <summary>Where the server_name extension's data length starts in <paramref name="message"/>, or -1.</summary>
    private static int ServerNameAt(byte[] message)
    {
        var position = 4 + 2 + 32;
        position += 1 + message[position];
        position += 2 + BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(position));
        position += 1 + message[position];
        position += 2;
        while (position + 4 <= message.Length)
        {
            var type = BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(position));
            var length = BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(position + 2));
            if (type == 0)
            {
                return position + 2;
            }

            position += 4 + length;
        }

        return -1;
    }
}
