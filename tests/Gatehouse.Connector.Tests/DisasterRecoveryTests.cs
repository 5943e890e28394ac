using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Node;
using Gatehouse.Node.Credentials;
using Gatehouse.Testing;

namespace Gatehouse.Connector.Tests;

/// <summary>
/// Private apps in disaster recovery: connectors link to the DR edges as to any edge, so the DR edge
/// brokers their apps on its own once the cloud edges and the portal are gone, also when it was
/// started from an exported DR bundle.
/// </summary>
public sealed class DisasterRecoveryTests : IAsyncLifetime
{
    private PrivateAccessFixture _f = null!;

    public async Task InitializeAsync() => _f = await PrivateAccessFixture.StartAsync();

    public async Task DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    public async Task A_private_app_stays_reachable_through_its_connector_on_the_dr_edge_with_the_cloud_edge_and_portal_gone()
    {
        await _f.PutDrSettingsAsync();
        var drEdge = await _f.StartDrEdgeAsync();

        // Following its bundle's edges, the connector links to the cloud edge and to the DR edge.
        var connector = await _f.StartConnectorAsync(edges: []);
        var id = connector.Identity.SubjectId.ToString();
        Assert.Contains(_f.Edge.DataPath.Connectors.Live, l => l.ConnectorId == id);
        Assert.Contains(drEdge.DataPath.Connectors.Live, l => l.ConnectorId == id);

        await _f.Edge.DisposeAsync();
        await _f.Portal.StopAsync();

        var opened = await _f.OpenAppAsync(_f.EngineerDevice, edge: drEdge);
        PrivateAccessFixture.AssertOpened(opened);
        Assert.Equal("ping", opened.Reason);
        Assert.Equal(403, (await _f.OpenAppAsync(_f.OutsiderDevice, edge: drEdge)).Status);
    }

    [Fact]
    public async Task A_dr_edge_started_from_an_exported_bundle_with_no_portal_serves_the_private_app()
    {
        await _f.PutDrSettingsAsync();
        var drEdge = await _f.StartDrEdgeAsync();
        var connector = await _f.StartConnectorAsync(edges: []);
        var exported = await _f.Admin.GetByteArrayAsync("dr/bundle");
        var version = VersionOf(exported);
        Assert.True(version >= drEdge.Policy.State!.Version, $"the export (v{version}) is older than the DR edge's bundle (v{drEdge.Policy.State.Version})");
        var file = Path.Combine(_f.DrEdgeDirectory, "..", "dr-export.json");
        await File.WriteAllBytesAsync(file, exported);

        // No portal and no last-known-good bundle: only the export can give the DR edge a policy.
        await _f.Portal.StopAsync();
        await _f.StopDrEdgeAsync();
        Directory.Delete(Path.Combine(_f.DrEdgeDirectory, NodeCredentialStore.BundleDirectory), recursive: true);
        drEdge = await _f.StartDrEdgeAsync(file);

        Assert.Equal(version, drEdge.Policy.State?.Version);
        await PrivateAccessFixture.WaitForLinkAsync(drEdge, connector, "the connector to link to the restarted DR edge");
        await _f.Edge.DisposeAsync();
        var opened = await _f.OpenAppAsync(_f.EngineerDevice, edge: drEdge);
        PrivateAccessFixture.AssertOpened(opened);
        Assert.Equal("ping", opened.Reason);
        Assert.Equal(403, (await _f.OpenAppAsync(_f.OutsiderDevice, edge: drEdge)).Status);
    }

    [Fact]
    public async Task A_tampered_dr_bundle_export_is_refused_and_the_dr_edge_does_not_start()
    {
        await _f.PutDrSettingsAsync();
        var exported = await _f.Admin.GetByteArrayAsync("dr/bundle");
        await _f.Portal.StopAsync();
        var at = exported.AsSpan().IndexOf(Encoding.UTF8.GetBytes(PrivateAccessFixture.AppName));
        Assert.True(at >= 0, "the export does not name the private app");
        exported[at] ^= 0x01;
        var file = Path.Combine(_f.DrEdgeDirectory, "..", "dr-export-tampered.json");
        await File.WriteAllBytesAsync(file, exported);

        var refused = await Assert.ThrowsAsync<NodeException>(() => _f.StartDrEdgeAsync(file));

        Assert.Contains("refused", refused.Message, StringComparison.Ordinal);
        Assert.Null(_f.DrEdge);
        var (host, port) = (_f.DrEdgeAddress!.Split(':')[0], int.Parse(_f.DrEdgeAddress.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture));
        using var probe = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(host, port).DefaultTimeout());
    }

    private static long VersionOf(byte[] bundle) =>
        JsonNode.Parse(bundle)!["signed"]!["version"]!.GetValue<long>();
}
