using Gatehouse.Testing.Portal;
using System.Net;
using System.Net.Http.Json;
using Gatehouse.Node.Config;
using Gatehouse.Node.Credentials;
using Gatehouse.Node.Enrollment;
using Gatehouse.Node.Tests.Hosting;
using Gatehouse.Testing;
using Gatehouse.Trust.Certificates;
using Gatehouse.Wire.Api;

namespace Gatehouse.Node.Tests.Enrollment;

public sealed class NodeEnrollmentTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("gatehouse-node-enroll-").FullName;
    private readonly NodeEnrollment _enrollment = new();
    private TestPortal _portal = null!;
    private HttpClient _admin = null!;
    private NodeCredentialStore _store = null!;

    public async Task InitializeAsync()
    {
        _portal = await TestPortal.StartAsync();
        _admin = await _portal.SignInAsync();
        _store = new NodeCredentialStore(Path.Combine(_root, "agent"));
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _portal.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private PortalTrust Pinned => PortalTrust.Pinned(_portal.TlsCertificatePem);

    [Fact]
    public async Task Device_enrolls_and_its_store_holds_the_portal_issued_identity()
    {
        var token = await Admin.CreateEnrollmentTokenAsync(_admin);

        using var credentials = await _enrollment.EnrollDeviceAsync(_store, _portal.BaseAddress, Pinned, token, "laptop", "linux", "1.0.0").DefaultTimeout();

        var device = (await _admin.GetFromJsonAsync<DeviceDto>($"devices/{credentials.Identity.SubjectId}", TestPortal.Json))!;
        Assert.Equal(DeviceStatuses.Active, device.Status);
        Assert.Equal(credentials.Certificate.SerialNumber, device.CertificateSerial, ignoreCase: true);
        var tenant = (await _admin.GetFromJsonAsync<TenantDetailsDto>("tenant", TestPortal.Json))!;
        Assert.Equal(tenant.Id, credentials.Identity.TenantId);
        Assert.Equal(IdentityKinds.Device, credentials.Identity.Kind);
        Assert.Equal("/api/v1/config/agent", credentials.Identity.ConfigPath);

        using var loaded = _store.Load();
        Assert.NotNull(loaded);
        Assert.Equal(credentials.Identity, loaded.Identity);
        Assert.Equal(_portal.TlsCertificatePem.Trim(), loaded.PortalTrust.CaCertificatePem!.Trim());
    }

    [Fact]
    public async Task Bad_token_is_refused_with_the_portals_detail_and_saves_nothing()
    {
        var error = await Assert.ThrowsAsync<NodeException>(() =>
            _enrollment.EnrollDeviceAsync(_store, _portal.BaseAddress, Pinned, "gh_enroll_not-a-real-token", "laptop", "linux", "1.0.0")).DefaultTimeout();

        Assert.Equal(NodeErrorReason.Refused, error.Reason);
        Assert.False(error.IsTransient);
        Assert.Equal(401, error.StatusCode);
        Assert.Equal("The enrollment token is not valid.", error.Message);
        Assert.False(Directory.Exists(_store.Directory));
    }

    [Fact]
    public async Task Used_up_token_is_refused_and_an_enrolled_store_is_not_overwritten()
    {
        var token = await Admin.CreateEnrollmentTokenAsync(_admin, maxUses: 1);
        using (await _enrollment.EnrollDeviceAsync(_store, _portal.BaseAddress, Pinned, token, "laptop", "linux", "1.0.0").DefaultTimeout())
        {
        }

        var again = await Assert.ThrowsAsync<NodeException>(() =>
            _enrollment.EnrollDeviceAsync(_store, _portal.BaseAddress, Pinned, token, "laptop", "linux", "1.0.0")).DefaultTimeout();
        Assert.Equal(NodeErrorReason.AlreadyEnrolled, again.Reason);

        var other = new NodeCredentialStore(Path.Combine(_root, "second"));
        var usedUp = await Assert.ThrowsAsync<NodeException>(() =>
            _enrollment.EnrollDeviceAsync(other, _portal.BaseAddress, Pinned, token, "laptop", "linux", "1.0.0")).DefaultTimeout();
        Assert.Equal(NodeErrorReason.Refused, usedUp.Reason);
        Assert.False(usedUp.IsTransient);
        Assert.Equal("The enrollment token is not valid.", usedUp.Message);
    }

    [Fact]
    public async Task Portal_with_a_certificate_other_than_the_pinned_one_is_refused()
    {
        var token = await Admin.CreateEnrollmentTokenAsync(_admin);
        using var otherCa = CertificateAuthority.Create("other", "other", TimeProvider.System);

        var error = await Assert.ThrowsAsync<NodeException>(() =>
            _enrollment.EnrollDeviceAsync(_store, _portal.BaseAddress, PortalTrust.Pinned(otherCa.CertificatePem), token, "laptop", "linux", "1.0.0")).DefaultTimeout();

        Assert.Equal(NodeErrorReason.Refused, error.Reason);
        Assert.False(error.IsTransient);
        Assert.False(_store.IsEnrolled);
    }

    [Fact]
    public async Task Unreachable_portal_is_a_transient_failure()
    {
        var closed = new Uri($"https://127.0.0.1:{FreePort.GetLoopbackTcpPort()}/");

        var error = await Assert.ThrowsAsync<NodeException>(() =>
            _enrollment.EnrollDeviceAsync(_store, closed, Pinned, "gh_enroll_x", "laptop", "linux", "1.0.0")).DefaultTimeout();

        Assert.Equal(NodeErrorReason.Unavailable, error.Reason);
        Assert.True(error.IsTransient);
    }

    [Fact]
    public async Task Renewal_keeps_the_key_and_the_portal_refuses_the_old_certificate_afterwards()
    {
        var token = await Admin.CreateEnrollmentTokenAsync(_admin);
        using var before = await _enrollment.EnrollDeviceAsync(_store, _portal.BaseAddress, Pinned, token, "laptop", "linux", "1.0.0").DefaultTimeout();
        using var oldClient = NodeHttpClient.Create(before);
        Assert.Equal(HttpStatusCode.OK, (await oldClient.GetAsync("api/v1/config/agent?wait=0").DefaultTimeout()).StatusCode);

        using var renewed = await _enrollment.RenewAsync(_store).DefaultTimeout();

        Assert.NotEqual(before.Certificate.SerialNumber, renewed.Certificate.SerialNumber);
        Assert.Equal(before.Certificate.PublicKey.ExportSubjectPublicKeyInfo(), renewed.Certificate.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Equal(before.Identity, renewed.Identity);
        using (var stored = _store.Load())
        {
            Assert.Equal(renewed.Certificate.RawData, stored!.Certificate.RawData);
        }

        // A fresh connection, so that the portal checks the old certificate again.
        using var oldAgain = NodeHttpClient.Create(before);
        Assert.Equal(HttpStatusCode.Unauthorized, (await oldAgain.GetAsync("api/v1/config/agent?wait=0").DefaultTimeout()).StatusCode);
        using var newClient = NodeHttpClient.Create(renewed);
        Assert.Equal(HttpStatusCode.OK, (await newClient.GetAsync("api/v1/config/agent?wait=0").DefaultTimeout()).StatusCode);

        var device = (await _admin.GetFromJsonAsync<DeviceDto>($"devices/{renewed.Identity.SubjectId}", TestPortal.Json))!;
        Assert.Equal(renewed.Certificate.SerialNumber, device.CertificateSerial, ignoreCase: true);
    }

    [Fact]
    public async Task Connector_enrolls_with_a_provisioning_key_and_follows_the_connector_bundle()
    {
        var key = await Admin.CreateProvisioningKeyAsync(_admin, ProvisioningKinds.Connector, await Admin.CreateConnectorGroupAsync(_admin, "dc1"));
        var store = new NodeCredentialStore(Path.Combine(_root, "connector"));

        using var credentials = await _enrollment.EnrollServiceAsync(store, IdentityKinds.Connector, _portal.BaseAddress, Pinned, key, "connector1", null).DefaultTimeout();
        await using var follower = new BundleFollower(credentials, store.LastKnownGood);
        follower.Start();
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        var bundle = await follower.WaitForVersionAsync(1, timeout.Token);

        Assert.Equal("connector", bundle.Header.Consumer);
        Assert.Equal(credentials.Identity.TenantId.ToString(), bundle.Header.Tenant);
    }
}
