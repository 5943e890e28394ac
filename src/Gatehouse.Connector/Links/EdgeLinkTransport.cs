using System.Net;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Connector.Links;

/// <summary>What Kestrel binds to on a connector: the edges, through <see cref="EdgeDialer"/>.</summary>
internal sealed class EdgeLinkEndPoint : EndPoint
{
    /// <summary>Set once the host is built, before Kestrel starts.</summary>
    public EdgeDialer Dialer { get; set; } = null!;

    public override string ToString() => "edge links";
}

/// <summary>A Kestrel transport whose "accepted" connections are the links the connector dials to edges.</summary>
internal sealed class EdgeLinkTransport : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is EdgeLinkEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        endpoint is EdgeLinkEndPoint edges
            ? ValueTask.FromResult<IConnectionListener>(new Listener(edges))
            : throw new NotSupportedException($"{endpoint} is not an edge link endpoint.");

    private sealed class Listener(EdgeLinkEndPoint endpoint) : IConnectionListener
    {
        private readonly CancellationTokenSource _unbound = new();

        public EndPoint EndPoint => endpoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _unbound.Token);
            return await endpoint.Dialer.NextAsync(both.Token);
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            _unbound.Cancel();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            _unbound.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
