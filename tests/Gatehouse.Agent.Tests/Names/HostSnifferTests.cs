using System.Buffers;
using System.Text;
using Gatehouse.Agent.Transparent;
using Gatehouse.Testing.Tls;

namespace Gatehouse.Agent.Tests.Names;

public sealed class HostSnifferTests
{
    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: www.example.test:8080\r\nAccept: */*\r\n\r\n", "Http", "www.example.test")]
    [InlineData("POST /x HTTP/1.1\r\nhost: API.example.test\r\n\r\n", "Http", "api.example.test")]
    [InlineData("GET / HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n", "Unknown", null)]
    [InlineData("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", "Unknown", null)]
    [InlineData("GET / HTTP/1.1\r\n\r\nHost: www.example.test\r\n", "Unknown", null)]
    [InlineData("GET / HTTP/1.1\r\nAccept: */*\r\nHost: www.example.test\r\nAcc", "Http", "www.example.test")]
    [InlineData("GET / HTTP/1.1\r\nHost: www.example.test", "NeedMore", null)]
    [InlineData("GET / HTTP/1.1\r\nAcc", "NeedMore", null)]
    [InlineData("GE", "NeedMore", null)]
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n", "Unknown", null)]
    public void Plain_http_gives_its_host_header(string first, string status, string? host)
    {
        var result = new HostSniffer().TryRead(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(first)), out var name);

        Assert.Equal((status, host), (result.ToString(), name));
    }

    [Fact]
    public void A_head_without_a_host_in_its_first_8_KiB_is_unknown()
    {
        var head = Encoding.ASCII.GetBytes($"GET / HTTP/1.1\r\nCookie: {new string('a', HostSniffer.MaxHeadBytes)}\r\nHost: www.example.test\r\n\r\n");

        Assert.Equal(SniffStatus.Unknown, new HostSniffer().TryRead(new ReadOnlySequence<byte>(head), out _));
    }

    public static TheoryData<string> Heads() => new()
    {
        "GET / HTTP/1.1\r\nHost: www.example.test:8080\r\nAccept: */*\r\n\r\n",
        "GET / HTTP/1.1\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\nHOST: Deep.Example.Test\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n",
        "GET / HTTP/1.1\r\nAccept: */*\r\n\r\nHost: after.example.test\r\n",
        "DELETE /x HTTP/1.1\r\nX-Cr: a\rb\r\nHost: cr.example.test\r\n\r\n",
        "SSH-2.0-OpenSSH_9.2\r\n",
        $"GET / HTTP/1.1\r\nCookie: {new string('c', HostSniffer.MaxHeadBytes - 40)}\r\nHost: edge.example.test\r\n\r\n",
    };

    [Theory]
    [MemberData(nameof(Heads))]
    public void A_head_fed_a_byte_more_at_a_time_reads_as_each_of_its_starts_read_whole(string text)
    {
        // As the session feeds it: the same first bytes again each time more arrive.
        var head = Encoding.ASCII.GetBytes(text);
        var trickled = new HostSniffer();

        for (var length = 1; length <= head.Length; length++)
        {
            var start = new ReadOnlySequence<byte>(head, 0, length);
            var whole = new HostSniffer().TryRead(start, out var wholeHost);
            var status = trickled.TryRead(start, out var host);

            Assert.True((whole, wholeHost) == (status, host), $"after {length} bytes: {status} {host}, read whole {whole} {wholeHost}");
        }
    }

    [Theory]
    [MemberData(nameof(Heads))]
    public void A_head_split_at_any_byte_reads_as_the_head_read_whole(string text)
    {
        // The first read ends at the split, and the second sees the bytes in two segments split there, as a pipe's are.
        var head = Encoding.ASCII.GetBytes(text);
        var expected = new HostSniffer().TryRead(new ReadOnlySequence<byte>(head), out var expectedHost);

        for (var split = 1; split < head.Length; split++)
        {
            var sniffer = new HostSniffer();
            sniffer.TryRead(new ReadOnlySequence<byte>(head, 0, split), out _);
            var status = sniffer.TryRead(Split(head, split), out var host);

            Assert.True((expected, expectedHost) == (status, host), $"split at {split}: {status} {host}, read whole {expected} {expectedHost}");
        }
    }

    [Fact]
    public void A_head_trickled_a_byte_at_a_time_is_not_read_again_from_its_start_on_every_read()
    {
        // Each read took the first 8 KiB as a string again: a head trickled a byte at a time cost its length squared.
        var head = Encoding.ASCII.GetBytes($"GET / HTTP/1.1\r\nCookie: {new string('c', HostSniffer.MaxHeadBytes - 64)}\r\nHost: www.example.test\r\n\r\n");
        var sniffer = new HostSniffer();
        var status = SniffStatus.NeedMore;

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var length = 1; length <= head.Length && status == SniffStatus.NeedMore; length++)
        {
            status = sniffer.TryRead(new ReadOnlySequence<byte>(head, 0, length), out _);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(SniffStatus.Http, status);
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated to read an {head.Length}-byte head");
    }

    [Fact]
    public void A_tls_ClientHello_split_at_any_byte_gives_its_server_name()
    {
        var hello = ClientHellos.Build(ClientHellos.ServerNames((0, "www.example.test"u8.ToArray())));

        for (var split = 1; split < hello.Length; split++)
        {
            var sniffer = new HostSniffer();
            Assert.Equal(SniffStatus.NeedMore, sniffer.TryRead(new ReadOnlySequence<byte>(hello, 0, split), out _));
            Assert.Equal((SniffStatus.Tls, "www.example.test"), (sniffer.TryRead(Split(hello, split), out var host), host));
        }
    }

    /// <summary><paramref name="bytes"/> as two segments, the second starting at <paramref name="at"/>.</summary>
    private static ReadOnlySequence<byte> Split(byte[] bytes, int at)
    {
        var first = new Segment(bytes.AsMemory(0, at), 0);
        var second = first.Append(bytes.AsMemory(at));
        return new ReadOnlySequence<byte>(first, 0, second, second.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
