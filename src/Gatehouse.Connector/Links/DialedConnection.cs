using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace Gatehouse.Connector.Links;

/// <summary>A connection this connector dialled to an edge, after TLS, as Kestrel takes an accepted one.</summary>
internal sealed class DialedConnection : ConnectionContext
{
    private readonly SslStream _tls;
    private readonly CancellationTokenSource _closed = new();
    private readonly Action _onEnded;
    private int _ended;

    public DialedConnection(SslStream tls, EndPoint? local, EndPoint? remote, Action onEnded)
    {
        _tls = tls;
        _onEnded = onEnded;
        LocalEndPoint = local;
        RemoteEndPoint = remote;
        ConnectionClosed = _closed.Token;
        Transport = new Pipe(
            PipeReader.Create(tls, new StreamPipeReaderOptions(bufferSize: 16 * 1024, leaveOpen: true)),
            PipeWriter.Create(tls, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024, leaveOpen: true)));
    }

    public override string ConnectionId { get; set; } = Guid.NewGuid().ToString("N");

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    public override void Abort(ConnectionAbortedException abortReason) => End();

    public override async ValueTask DisposeAsync()
    {
        End();
        await _tls.DisposeAsync();
        _closed.Dispose();
    }

    private void End()
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }

        _closed.Cancel();
        _tls.Dispose();
        _onEnded();
    }

    private sealed class Pipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
