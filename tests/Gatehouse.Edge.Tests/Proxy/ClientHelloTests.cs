using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Testing.Tls;
using Gatehouse.Wire.Tls;

namespace Gatehouse.Edge.Tests.Proxy;

/// <summary>The server name read out of ClientHellos that .NET's TLS client sends, whole and cut into fragments.</summary>
public sealed class ClientHelloTests
{
    [Fact]
    public async Task A_ClientHello_in_one_record_gives_its_server_name()
    {
        var hello = await CaptureAsync("WWW.Example.test");

        Assert.Equal((ClientHelloStatus.Found, "www.example.test"), Read(hello));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(100)]
    public async Task A_ClientHello_split_over_many_records_gives_its_server_name(int fragmentBytes)
    {
        // What SNI-filter evasion tools send: the name is never whole in any one record.
        var fragmented = Fragment(Message(await CaptureAsync("www.blocked.example")), fragmentBytes);

        Assert.Equal((ClientHelloStatus.Found, "www.blocked.example"), Read(fragmented));
    }

    [Fact]
    public async Task Every_part_of_a_fragmented_ClientHello_asks_for_more()
    {
        var fragmented = Fragment(Message(await CaptureAsync("www.example.test")), 9);

        for (var length = 0; length < fragmented.Length; length++)
        {
            Assert.Equal(ClientHelloStatus.NeedMore, ClientHello.TryReadServerName(new ReadOnlySequence<byte>(fragmented, 0, length), out _));
        }
    }

    [Fact]
    public async Task A_reader_fed_the_first_bytes_as_they_grow_finds_the_name_once_they_are_whole()
    {
        // As the edge feeds it: the same first bytes again each time more arrive, here a byte at a time.
        var fragmented = Fragment(Message(await CaptureAsync("www.example.test")), 3);
        var reader = new ClientHelloReader();

        for (var length = 0; length < fragmented.Length; length++)
        {
            Assert.Equal(ClientHelloStatus.NeedMore, reader.Read(new ReadOnlySequence<byte>(fragmented, 0, length), out _));
        }

        Assert.Equal(ClientHelloStatus.Found, reader.Read(new ReadOnlySequence<byte>(fragmented), out var name));
        Assert.Equal("www.example.test", name);
        Assert.Equal(ClientHelloStatus.Found, reader.Read(new ReadOnlySequence<byte>([.. fragmented, 0x17, 0x03]), out _));
    }

    [Fact]
    public async Task A_ClientHello_without_a_server_name_is_found_nameless()
    {
        var hello = await CaptureAsync(null);

        Assert.Equal((ClientHelloStatus.Found, (string?)null), Read(hello));
    }

    [Theory]
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n")]
    [InlineData("GET / HTTP/1.1\r\n")]
    [InlineData("\u0016\u0001")]
    [InlineData("\u0015\u0001")]
    [InlineData("\u0017GET")]
    public void Other_protocols_are_not_tls(string first)
    {
        Assert.Equal(ClientHelloStatus.NotTls, ClientHello.TryReadServerName(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(first)), out _));
    }

    [Fact]
    public void An_sslv2_format_ClientHello_is_not_tls()
    {
        // Its header is no TLS record: it names no server, and the flow stays decided by its host and port.
        Assert.Equal(ClientHelloStatus.NotTls, Read(ClientHellos.Sslv2ClientHello()).Status);
    }

    [Fact]
    public void With_encrypted_client_hello_the_outer_public_name_is_read()
    {
        // The site's own name is inside the encrypted_client_hello extension, which nothing can read but the server.
        var hello = ClientHellos.BuildWithExtensions((0x0000, ClientHellos.ServerNames((0, "public.example"u8.ToArray()))), (ClientHellos.EncryptedClientHello, ClientHellos.EchOuterPayload()));

        Assert.Equal((ClientHelloStatus.Found, "public.example"), Read(hello));
    }

    [Fact]
    public void A_lone_handshake_byte_asks_for_more()
    {
        Assert.Equal(ClientHelloStatus.NeedMore, ClientHello.TryReadServerName(new ReadOnlySequence<byte>([0x16]), out _));
    }

    [Theory]
    [InlineData(0x14)]
    [InlineData(0x15)]
    [InlineData(0x17)]
    [InlineData(0x18)]
    public void A_lone_byte_of_any_record_type_asks_for_more(byte type)
    {
        // The next byte tells a TLS record from another protocol; the client chooses where its segments end.
        Assert.Equal(ClientHelloStatus.NeedMore, ClientHello.TryReadServerName(new ReadOnlySequence<byte>([type]), out _));
    }

    [Theory]
    [InlineData(new byte[] { 0x14, 0x03, 0x03, 0x00, 0x01, 0x01 })] // ChangeCipherSpec
    [InlineData(new byte[] { 0x15, 0x03, 0x01, 0x00, 0x02, 0x01, 0x00 })] // a warning alert: close_notify
    [InlineData(new byte[] { 0x17, 0x03, 0x03, 0x00, 0x03, 0x41, 0x42, 0x43 })] // application data
    [InlineData(new byte[] { 0x18, 0x03, 0x03, 0x00, 0x03, 0x01, 0x00, 0x00 })] // heartbeat
    [InlineData(new byte[] { 0x16, 0x03, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00 })] // a handshake record: HelloRequest
    public async Task A_record_before_the_ClientHello_makes_it_unreadable(byte[] first)
    {
        // A server that skips such a record would read the ClientHello after it, which went through unread.
        var hello = await CaptureAsync("www.blocked.example");

        Assert.Equal(ClientHelloStatus.Malformed, Read([.. first, .. hello]).Status);
        Assert.Equal(ClientHelloStatus.Malformed, Read(first).Status);
    }

    [Fact]
    public async Task Handshake_records_that_do_not_make_a_readable_ClientHello_are_malformed()
    {
        var message = Message(await CaptureAsync("www.example.test"));
        var fragmented = Fragment(message, 50);

        var interleaved = (byte[])fragmented.Clone();
        interleaved[55] = 0x17; // the second record is application data
        var withEmptyRecord = new byte[] { 0x16, 0x03, 0x01, 0x00, 0x00 }.Concat(fragmented).ToArray();
        var notAHello = (byte[])message.Clone();
        notAHello[0] = 0x02; // a ServerHello
        var tooLong = (byte[])message.Clone();
        tooLong[1] = 0x01; // 65,536 bytes and more
        var trailing = message.Concat(new byte[] { 0, 0 }).ToArray(); // two bytes after the extensions, inside the message
        var length = (trailing[1] << 16) | (trailing[2] << 8) | trailing[3];
        (trailing[1], trailing[2], trailing[3]) = ((byte)((length + 2) >> 16), (byte)((length + 2) >> 8), (byte)(length + 2));

        Assert.Equal(ClientHelloStatus.Malformed, Read(interleaved).Status);
        Assert.Equal(ClientHelloStatus.Malformed, Read(withEmptyRecord).Status);
        Assert.Equal(ClientHelloStatus.Malformed, Read(Fragment(notAHello, 50)).Status);
        Assert.Equal(ClientHelloStatus.Malformed, Read(Fragment(tooLong, 50)).Status);
        Assert.Equal(ClientHelloStatus.Malformed, Read(Fragment(trailing, 50)).Status);
        Assert.Equal(ClientHelloStatus.Found, Read(fragmented).Status);
    }

    [Fact]
    public void Fragments_past_the_most_bytes_worth_waiting_for_are_malformed()
    {
        // A message that says it is 16 KiB long, a byte per record: its records would take 96 KiB.
        var header = new byte[] { 0x01, 0x00, 0x3F, 0xFC };
        var records = Fragment([.. header, .. new byte[ClientHello.MaxBytes / 6]], 1);

        Assert.Equal(ClientHelloStatus.Malformed, Read(records).Status);
    }

    [Theory]
    [InlineData("www.blocked.example\u0000")]
    [InlineData("www.blocked.example\u0001")]
    [InlineData("www.blocked\u0000.example")]
    [InlineData("www.blocked.example\r\n")]
    [InlineData("www blocked.example")]
    [InlineData("www.bl\u00f6cked.example")]
    [InlineData("www..blocked.example")]
    [InlineData(".blocked.example")]
    [InlineData("www.blocked.example..")]
    [InlineData("-www.blocked.example")]
    [InlineData("www.blocked.example/")]
    [InlineData("")]
    public void A_server_name_that_is_not_a_host_name_makes_the_ClientHello_unreadable(string name)
    {
        // Before, such a name was read as none, and the flow went on undecided; a server may still read a name in it.
        Assert.Equal(ClientHelloStatus.Malformed, Read(ClientHellos.Build(ClientHellos.ServerNames((0, Encoding.UTF8.GetBytes(name))))).Status);
    }

    [Fact]
    public void Server_names_past_the_length_limits_make_the_ClientHello_unreadable()
    {
        var longLabel = new string('a', 64) + ".example";
        var longName = string.Join('.', Enumerable.Repeat(new string('a', 63), 4)); // 255 characters

        Assert.Equal(ClientHelloStatus.Malformed, Read(ClientHellos.Build(ClientHellos.ServerNames((0, Encoding.ASCII.GetBytes(longLabel))))).Status);
        Assert.Equal(ClientHelloStatus.Malformed, Read(ClientHellos.Build(ClientHellos.ServerNames((0, Encoding.ASCII.GetBytes(longName))))).Status);
        Assert.Equal(ClientHelloStatus.Found, Read(ClientHellos.Build(ClientHellos.ServerNames((0, Encoding.ASCII.GetBytes(longName[..253]))))).Status);
    }

    [Fact]
    public void A_server_name_list_that_is_not_one_host_name_makes_the_ClientHello_unreadable()
    {
        var allowed = Encoding.ASCII.GetBytes("allowed.example");
        var blocked = Encoding.ASCII.GetBytes("www.blocked.example");

        Assert.Equal(ClientHelloStatus.Malformed, Read(ClientHellos.Build(ClientHellos.ServerNames((0, allowed), (0, blocked)))).Status);
        Assert.Equal(ClientHelloStatus.Malformed, Read(ClientHellos.Build(ClientHellos.ServerNames((1, blocked)))).Status);
        Assert.Equal(ClientHelloStatus.Malformed, Read(ClientHellos.Build([.. ClientHellos.ServerNames((0, allowed)), 0])).Status);
        Assert.Equal(ClientHelloStatus.Malformed, Read(ClientHellos.Build([])).Status);

        // Two server_name extensions: the first was decided, and a server that reads the last one went where it named.
        Assert.Equal(ClientHelloStatus.Malformed, Read(ClientHellos.BuildWithServerNames([ClientHellos.ServerNames((0, allowed)), ClientHellos.ServerNames((0, blocked))])).Status);
    }

    [Theory]
    [InlineData("WWW.Blocked.Example", "www.blocked.example")]
    [InlineData("www.blocked.example.", "www.blocked.example")]
    [InlineData("my_bucket.s3.example", "my_bucket.s3.example")]
    [InlineData("xn--bcher-kva.example", "xn--bcher-kva.example")]
    public void A_host_name_is_read_lower_cased_without_a_final_dot(string sent, string read)
    {
        Assert.Equal((ClientHelloStatus.Found, read), Read(ClientHellos.Build(ClientHellos.ServerNames((0, Encoding.ASCII.GetBytes(sent))))));
    }

    private static (ClientHelloStatus Status, string? Name) Read(byte[] bytes)
    {
        var status = ClientHello.TryReadServerName(new ReadOnlySequence<byte>(bytes), out var name);
        return (status, name);
    }

    /// <summary>The handshake message carried by <paramref name="records"/>: their payloads, one after the other.</summary>
    internal static byte[] Message(byte[] records)
    {
        var message = new List<byte>();
        for (var position = 0; position + 5 <= records.Length;)
        {
            var length = BinaryPrimitives.ReadUInt16BigEndian(records.AsSpan(position + 3));
            message.AddRange(records.AsSpan(position + 5, length).ToArray());
            position += 5 + length;
        }

        return [.. message];
    }

    /// <summary><paramref name="message"/> in handshake records of <paramref name="fragmentBytes"/> each (the last may be shorter).</summary>
    internal static byte[] Fragment(byte[] message, int fragmentBytes)
    {
        var records = new List<byte>();
        foreach (var fragment in message.Chunk(fragmentBytes))
        {
            records.AddRange([0x16, 0x03, 0x01, (byte)(fragment.Length >> 8), (byte)fragment.Length]);
            records.AddRange(fragment);
        }

        return [.. records];
    }

    /// <summary>The first TLS record .NET's client sends for <paramref name="serverName"/>: its ClientHello.</summary>
    internal static async Task<byte[]> CaptureAsync(string? serverName)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
        using var server = await listener.AcceptTcpClientAsync();
        using var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        var handshake = tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = serverName ?? string.Empty });

        var received = server.GetStream();
        var header = new byte[5];
        await received.ReadExactlyAsync(header).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        var body = new byte[BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(3))];
        await received.ReadExactlyAsync(body).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        server.Close();
        await Assert.ThrowsAnyAsync<Exception>(() => handshake);
        return [.. header, .. body];
    }
}
