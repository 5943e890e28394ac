using Gatehouse.Testing;
using Gatehouse.Tunnel;

namespace Gatehouse.Connector.Tests;

/// <summary>
/// How a private flow carried on a link's HTTP/2 stream ends at the app. The test opens the flow on the edge's own
/// link to the connector, as the edge's relay does, and ends the stream or resets it when it says.
/// </summary>
public sealed class StreamedFlowTests : IAsyncLifetime
{
    private const string UploadName = "upload.corp.internal";

    private PrivateAccessFixture _f = null!;

    public async Task InitializeAsync() => _f = await PrivateAccessFixture.StartAsync();

    public async Task DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    public async Task A_stream_the_edge_resets_midway_through_an_upload_reaches_the_app_as_a_reset_not_as_the_end_of_the_upload()
    {
        using var app = new UploadApp();
        await using var stream = await OpenUploadAsync(app);
        var firstHalf = "the first half"u8.ToArray();

        await stream.WriteAsync(firstHalf);
        await app.ReadAsync(firstHalf);
        stream.Reset();

        // RST_STREAM without END_STREAM must reach the relay as a break, and the app as a reset: a FIN would make the
        // half it read look like the whole upload.
        await app.AssertCutAfterAsync(firstHalf);
    }

    [Fact]
    public async Task A_stream_whose_upload_ends_reaches_the_app_whole_with_a_clean_end()
    {
        using var app = new UploadApp();
        await using var stream = await OpenUploadAsync(app);
        var whole = "the whole upload"u8.ToArray();

        await stream.WriteAsync(whole);
        stream.CompleteWrites();

        await app.AssertEndedAfterAsync(whole);
    }

    [Fact]
    public async Task A_stream_the_edge_resets_after_the_app_said_everything_reaches_the_app_as_a_reset()
    {
        using var app = new UploadApp(answer: "the whole answer"u8.ToArray());
        await using var stream = await OpenUploadAsync(app);

        await stream.WriteAsync("get"u8.ToArray());
        using (var answer = new StreamReader(stream, leaveOpen: true))
        {
            Assert.Equal("the whole answer", await answer.ReadToEndAsync().DefaultTimeout());
        }

        stream.Reset();

        // The relay counts a client that resets once its destination has said all as closing, not breaking, the flow;
        // the device still never ended its upload, and the app, done sending, must not read an end it was not sent.
        await app.AssertCutAfterAsync("get"u8.ToArray());
    }

    /// <summary>
    /// Makes <see cref="UploadName"/> at <paramref name="app"/>'s port a private app, starts a connector, and opens a
    /// flow to the app on the edge's link to it, as the edge does for a device that does not take flows relayed.
    /// </summary>
    private async Task<HalfCloseStream> OpenUploadAsync(UploadApp app)
    {
        var segment = await _f.AddAppAsync(UploadName, app.Port);
        var connector = await _f.StartConnectorAsync();
        await PrivateAccessFixture.WaitForAsync(() => connector.Config.SegmentNames.Contains(segment), $"the connector to serve {segment}");
        var link = Assert.Single(_f.Edge.DataPath.Connectors.Live);
        var opened = await link.Flows.OpenAsync(UploadName, app.Port, new TunnelFlowMetadata(Segment: segment)).DefaultTimeout();
        PrivateAccessFixture.AssertOpened(opened);
        return Assert.IsType<HalfCloseStream>(opened.Stream);
    }
}
