using System.Text;
using Gatehouse.Agent.LocalProxy;

namespace Gatehouse.Agent.Tests.LocalProxy;

/// <summary>The destination's answer to a forwarded plain-HTTP request, as the application reads it.</summary>
public sealed class ClosingResponseStreamTests
{
    public static TheoryData<string, string> Answers => new()
    {
        {
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello"
        },
        {
            // HTTP/1.0 answers are marked too; a destination that said it already says it twice, which means the same.
            "HTTP/1.0 404 Not Found\r\nConnection: close\r\n\r\ngone",
            "HTTP/1.0 404 Not Found\r\nConnection: close\r\nConnection: close\r\n\r\ngone"
        },
        {
            // Only the final response: 1xx heads pass as they are, header lines and all.
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 204 No Content\r\nServer: x\r\n\r\n",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 204 No Content\r\nConnection: close\r\nServer: x\r\n\r\n"
        },
        {
            // A body that looks like a status line is a body.
            "HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"
        },
        {
            // Bare line feeds end lines too.
            "HTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\nX: y\n\nbody",
            "HTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\nConnection: close\r\nX: y\n\nbody"
        },
        { "SSH-2.0-OpenSSH_9.2\r\nnot HTTP at all", "SSH-2.0-OpenSSH_9.2\r\nnot HTTP at all" },
        { "HTTP/1.1 2000 Too Long\r\n\r\n", "HTTP/1.1 2000 Too Long\r\n\r\n" },
        { "HTTP/1.1 20", "HTTP/1.1 20" },
        { "", "" },
    };

    [Theory]
    [MemberData(nameof(Answers))]
    public async Task The_final_response_says_the_connection_closes_whole(string answer, string read) =>
        Assert.Equal(read, await ReadAllAsync(answer, chunk: int.MaxValue));

    [Theory]
    [MemberData(nameof(Answers))]
    public async Task The_final_response_says_the_connection_closes_a_byte_at_a_time(string answer, string read) =>
        Assert.Equal(read, await ReadAllAsync(answer, chunk: 1));

    [Theory]
    [MemberData(nameof(Answers))]
    public async Task The_final_response_says_the_connection_closes_read_into_small_buffers(string answer, string read) =>
        Assert.Equal(read, await ReadAllAsync(answer, chunk: int.MaxValue, readSize: 3));

    [Fact]
    public async Task A_status_line_longer_than_the_limit_passes_unchanged()
    {
        var answer = "HTTP/1.1 200 " + new string('x', ClosingResponseStream.MaxStatusLineBytes) + "\r\n\r\nbody";

        Assert.Equal(answer, await ReadAllAsync(answer, chunk: 1000));
    }

    [Fact]
    public async Task A_body_that_came_with_the_head_follows_it_whole()
    {
        // The head is read a little at a time; the body read with it goes to the application after it, in order.
        var body = string.Concat(Enumerable.Range(0, 20_000).Select(i => (char)('a' + (i % 26))));
        var answer = "HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n" + body;

        Assert.Equal("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 20000\r\n\r\n" + body, await ReadAllAsync(answer, chunk: int.MaxValue, readSize: 64 * 1024));
    }

    [Fact]
    public async Task A_zero_byte_read_waits_for_the_answer_and_takes_nothing()
    {
        var source = new ChunkedSource("HTTP/1.1 200 OK\r\n\r\nok", int.MaxValue);
        var stream = new ClosingResponseStream(source);

        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty));
        Assert.Equal("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nok", await ReadRestAsync(stream, 4096));
    }

    [Fact]
    public async Task Writes_go_to_the_flow_unchanged()
    {
        var source = new ChunkedSource("", int.MaxValue);
        var stream = new ClosingResponseStream(source);

        await stream.WriteAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray());
        await stream.FlushAsync();

        Assert.Equal("GET / HTTP/1.1\r\n\r\n", Encoding.ASCII.GetString(source.Written.ToArray()));
    }

    private static async Task<string> ReadAllAsync(string answer, int chunk, int readSize = 4096) =>
        await ReadRestAsync(new ClosingResponseStream(new ChunkedSource(answer, chunk)), readSize);

    private static async Task<string> ReadRestAsync(Stream stream, int readSize)
    {
        var all = new MemoryStream();
        var buffer = new byte[readSize];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            all.Write(buffer, 0, read);
        }

        return Encoding.ASCII.GetString(all.ToArray());
    }

    /// <summary>Gives the answer at most <c>chunk</c> bytes a read, and keeps what is written.</summary>
    private sealed class ChunkedSource(string answer, int chunk) : Stream
    {
        private readonly byte[] _answer = Encoding.ASCII.GetBytes(answer);
        private int _offset;

        public MemoryStream Written { get; } = new();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, chunk), _answer.Length - _offset);
            _answer.AsSpan(_offset, n).CopyTo(buffer.AsSpan(offset));
            _offset += n;
            return n;
        }

        public override void Write(byte[] buffer, int offset, int count) => Written.Write(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
