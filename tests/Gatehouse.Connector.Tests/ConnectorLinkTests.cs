using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Connector.Config;
using Gatehouse.Connector.Links;
using Gatehouse.Testing;
using Gatehouse.Testing.Portal;
using Gatehouse.Trust.Certificates;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Connector.Tests;

/// <summary>Who may link to an edge as a connector, and what happens to a link when that changes.</summary>
public sealed class ConnectorLinkTests : IAsyncLifetime
{
    private const string OtherTenant = "0195f000-0000-7000-8000-00000000bbbb";
    private PrivateAccessFixture _f = null!;

    public async Task InitializeAsync() => _f = await PrivateAccessFixture.StartAsync();

    public async Task DisposeAsync() => await _f.DisposeAsync();

    [Fact]
    public async Task A_connector_of_another_tenant_cannot_link_so_it_never_receives_this_tenants_flows()
    {
        using var otherCa = CertificateAuthority.Create(OtherTenant, "other tenant", TimeProvider.System);
        using var key = CertificateSigningRequests.CreateKey();
        var issued = otherCa.Issue(CertificateSigningRequests.Create(key, "stranger"), new CertificateIdentity(OtherTenant, IdentityKinds.Connector, "0195f000-0000-7000-8000-00000000cccc"), TimeSpan.FromDays(1));
        using var stranger = X509Certificate2.CreateFromPem(issued.CertificatePem).CopyWithPrivateKey(key);

        // Trusting this tenant's CA for the edge, as a misconfigured connector of the other tenant might.
        await using var dialer = new EdgeDialer(() => stranger, _f.EngineerDevice.TenantCa, _f.EngineerDevice.Identity.TenantId.ToString(), TimeProvider.System, NullLogger.Instance);
        dialer.UseEdges([new EdgeTarget("edge-1", _f.Edge.TunnelAddress!.ToString())]);
        using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var link = await dialer.NextAsync(attempt.Token);

        // TLS 1.3 finishes the client's side before the edge checks the certificate: the edge then closes it.
        if (link is not null)
        {
            var read = await link.Transport.Input.ReadAsync().AsTask().WaitAsync(TestTimeouts.Default);
            Assert.True(read.IsCompleted, "the edge kept a link from another tenant open");
            await link.DisposeAsync();
        }

        Assert.Empty(_f.Edge.DataPath.Connectors.Live);
        Assert.Equal(503, (await _f.OpenAppAsync(_f.EngineerDevice)).Status);
    }

    [Fact]
    public async Task With_every_edge_linked_the_dialer_waits_instead_of_spinning()
    {
        var connector = await _f.StartConnectorAsync();
        var before = connector.Dialer.Rounds;

        await Task.Delay(TimeSpan.FromSeconds(1));

        Assert.True(connector.Dialer.Rounds - before <= 1, $"the dialer looked for an edge {connector.Dialer.Rounds - before} times in a second while linked");
    }

    [Fact]
    public async Task A_connector_without_a_config_links_to_no_edge_until_the_portal_sends_one()
    {
        var connector = await _f.StartConnectorAsync(waitForLink: false, afterEnrollment: _f.Portal.StopAsync);
        await Task.Delay(TimeSpan.FromSeconds(1));

        // Linked, it would be sent flows it must refuse: it serves no segment yet.
        Assert.Empty(connector.Config.SegmentNames);
        Assert.Empty(_f.Edge.DataPath.Connectors.Live);

        await _f.Portal.RestartAsync();
        var id = connector.Identity.SubjectId.ToString();
        await PrivateAccessFixture.WaitForAsync(() => _f.Edge.DataPath.Connectors.Live.Any(l => l.ConnectorId == id), "the connector to link once its config is in force");
        PrivateAccessFixture.AssertOpened(await _f.OpenAppAsync(_f.EngineerDevice));
    }

    [Fact]
    public async Task An_edge_with_a_linked_connector_and_no_flows_stops_without_waiting_out_the_drain()
    {
        await _f.StartConnectorAsync();
        var drain = new Gatehouse.Edge.Flows.EdgeLimits().DrainTimeout;

        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await _f.Edge.DisposeAsync();

        Assert.True(stopping.Elapsed < drain / 2, $"the edge took {stopping.Elapsed} to stop with an idle connector link (drain timeout {drain})");
    }

    [Fact]
    public async Task Revoking_a_connector_closes_its_link_and_flows_stop_going_to_it()
    {
        var connector = await _f.StartConnectorAsync();
        PrivateAccessFixture.AssertOpened(await _f.OpenAppAsync(_f.EngineerDevice));
        async Task<Gatehouse.Wire.Api.ConnectorDto> ListedAsync() => (await _f.Admin.GetFromJsonAsync<Gatehouse.Wire.Api.Page<Gatehouse.Wire.Api.ConnectorDto>>("connectors", TestPortal.Json))!.Items.Single();
        async Task ReportedAsync()
        {
            while ((await ListedAsync()).Health is not { Edges.Count: > 0 })
            {
                await Task.Delay(100);
            }
        }

        await ReportedAsync().WaitAsync(TestTimeouts.Default);

        (await _f.Admin.PostAsync($"connectors/{connector.Identity.SubjectId}/revoke", null)).EnsureSuccessStatusCode();

        await PrivateAccessFixture.WaitForAsync(() => _f.Edge.DataPath.Connectors.Live.Count == 0, "the edge to close the revoked connector's link");
        Assert.Equal(503, (await _f.OpenAppAsync(_f.EngineerDevice)).Status);
        var listed = await ListedAsync();
        Assert.Equal("revoked", listed.Status);
        Assert.Null(listed.Health); // its last report listed links the edges have closed since: `connector list` showed them

    }
}
