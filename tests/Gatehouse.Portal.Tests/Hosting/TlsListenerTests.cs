using System.Net;
using Gatehouse.Testing.Tls;

namespace Gatehouse.Portal.Tests.Hosting;

/// <summary>What the portal's TLS listener does with handshakes that go wrong.</summary>
public sealed class TlsListenerTests : IAsyncLifetime
{
    private PortalServer _portal = null!;

    public async Task InitializeAsync() => _portal = await PortalServer.StartAsync();

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Fact]
    public async Task A_client_hello_whose_handshake_length_stops_short_of_its_content_is_a_failed_handshake_not_an_unhandled_exception()
    {
        // SslStream's ClientHello parser throws ArgumentOutOfRangeException for one of these (found on the edge's tunnel
        // listener by its fuzz test); Kestrel logged it as an unhandled exception, with its stack, for every such connection.
        var hello = await ClientHellos.CaptureAsync();
        var address = new IPEndPoint(IPAddress.Loopback, _portal.BaseAddress.Port);
        using var endings = new ConnectionEndings(address.Port);

        var open = await ShortenedClientHellos.ThrowAtAsync(address, hello, TimeSpan.FromSeconds(5));

        Assert.True(open.Count == 0, $"connections with these handshake lengths were still open: {string.Join(", ", open)}");
        Assert.Empty(await endings.UnhandledExceptionsAsync(ShortenedClientHellos.Of(hello).Count()));
        using var client = _portal.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri(_portal.BaseAddress, "/healthz"))).StatusCode);
    }
}
