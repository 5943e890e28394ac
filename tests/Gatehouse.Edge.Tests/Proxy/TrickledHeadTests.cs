using System.Buffers;
using System.Text;
using Gatehouse.Edge.Flows;
using Gatehouse.Edge.Tests.TransactionLogs;
using Gatehouse.Flows;
using Gatehouse.Wire.Http;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Edge.Tests.Proxy;

/// <summary>
/// Request heads that arrive in pieces, as a slow or hostile client sends them: the search for the head's end goes on
/// from where it stopped, and reads what it would have read had the head come whole.
/// </summary>
public sealed class TrickledHeadTests
{
    private const string Head = "GET /a?b=c HTTP/1.1\r\nHost: www.example.test:8080\r\nX-One: 1\r\n\r\n";

    [Theory]
    [InlineData("")]
    [InlineData("\r\n\r\n")]
    public void A_head_split_anywhere_reads_as_it_does_whole(string emptyLinesBefore)
    {
        var bytes = Encoding.ASCII.GetBytes(emptyLinesBefore + Head + "body");
        var whole = new RequestHead();
        Assert.Equal(HeadStatus.Complete, whole.TryRead(new ReadOnlySequence<byte>(bytes), 1024, out var wholeEnd));

        for (var split = 0; split < emptyLinesBefore.Length + Head.Length; split++)
        {
            var head = new RequestHead();
            var searched = 0L;
            Assert.Equal(HeadStatus.Incomplete, head.TryRead(new ReadOnlySequence<byte>(bytes, 0, split), 1024, ref searched, out _));

            var all = new ReadOnlySequence<byte>(bytes);
            Assert.Equal(HeadStatus.Complete, head.TryRead(all, 1024, ref searched, out var end));
            Assert.Equal((whole.Method, whole.Target, whole.Host), (head.Method, head.Target, head.Host));
            Assert.Equal(all.Slice(wholeEnd).Length, all.Slice(end).Length);
            Assert.Equal(0, searched);
        }
    }

    [Fact]
    public void A_head_sent_a_byte_at_a_time_is_read_once_it_ends()
    {
        var bytes = Encoding.ASCII.GetBytes(Head);
        var head = new RequestHead();
        var searched = 0L;
        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.Equal(HeadStatus.Incomplete, head.TryRead(new ReadOnlySequence<byte>(bytes, 0, length), 1024, ref searched, out _));
            Assert.InRange(searched, 0, Math.Max(0, length - 3));
        }

        Assert.Equal(HeadStatus.Complete, head.TryRead(new ReadOnlySequence<byte>(bytes), 1024, ref searched, out _));
        Assert.Equal("www.example.test:8080", head.Host);
    }

    [Fact]
    public void A_trickled_head_over_the_limit_is_too_large_as_soon_as_it_passes_it()
    {
        var bytes = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n" + new string('a', 100));
        var head = new RequestHead();
        var searched = 0L;
        for (var length = 0; length <= 64; length++)
        {
            Assert.Equal(HeadStatus.Incomplete, head.TryRead(new ReadOnlySequence<byte>(bytes, 0, length), 64, ref searched, out _));
        }

        Assert.Equal(HeadStatus.TooLarge, head.TryRead(new ReadOnlySequence<byte>(bytes, 0, 65), 64, ref searched, out _));
    }

    [Theory]
    [InlineData("www.example.test", FirstBytesVerdict.Pass)]
    [InlineData("blocked.example.test", FirstBytesVerdict.Refuse)]
    public void A_flow_s_first_request_sent_a_byte_at_a_time_is_decided_when_its_head_ends(string host, FirstBytesVerdict verdict)
    {
        var bytes = Encoding.ASCII.GetBytes($"GET / HTTP/1.1\r\nHost: {host}\r\nX-Filler: {new string('x', 2000)}\r\n\r\n");
        var check = new FirstRequestCheck(
            "www.example.test",
            _ => default,
            (_, named) => named == "blocked.example.test" ? new RefusalReason(TransactionActions.Block, "blocked") : null);

        for (var length = 1; length < bytes.Length; length++)
        {
            Assert.Equal(FirstBytesVerdict.NeedMore, check.Inspect(new ReadOnlySequence<byte>(bytes, 0, length), completed: false));
        }

        Assert.Equal(verdict, check.Inspect(new ReadOnlySequence<byte>(bytes), completed: false));
        Assert.Equal($"http://{host}/", check.Applied(TestRecords.Flow(1)).Url);
    }
}
