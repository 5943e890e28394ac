using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Testing;
using Gatehouse.Trust.Certificates;
using Gatehouse.Wire.Api;

namespace Gatehouse.Portal.Tests.Enrollment;

public sealed class DeviceEnrollmentTests : IAsyncLifetime
{
    private readonly MovableClock _clock = new();
    private PortalServer _portal = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalServer.StartAsync(time: _clock);
        _admin = await _portal.SignInAsync();
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _portal.DisposeAsync();
    }

    [Fact]
    public async Task Device_enrolls_with_a_token_and_fetches_its_config_with_the_issued_certificate()
    {
        var token = await Enrollee.CreateTokenAsync(_admin);
        using var device = await Enrollee.EnrollDeviceAsync(_portal, token);

        var tenant = (await _admin.GetFromJsonAsync<TenantDetailsDto>("tenant", PortalServer.Json))!;
        Assert.Equal(tenant.Id, device.Response.TenantId);
        Assert.Equal(tenant.CaCertificatePem, device.Response.CaCertificatePem);
        Assert.Equal(tenant.ConfigKeyPublicPem, device.Response.ConfigKeyPublicPem);
        using (var ca = X509Certificate2.CreateFromPem(tenant.CaCertificatePem))
        using (var chain = new X509Chain())
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            Assert.True(chain.Build(device.Certificate), string.Join(", ", chain.ChainStatus.Select(s => s.StatusInformation)));
        }

        Assert.Equal(new CertificateIdentity(tenant.Id.ToString(), IdentityKinds.Device, device.Response.SubjectId.ToString()), CertificateIdentity.FromCertificate(device.Certificate));
        Assert.Equal("/api/v1/config/agent", device.Response.ConfigPath);
        Assert.InRange(device.Response.NotAfter, DateTimeOffset.UtcNow.AddDays(29), DateTimeOffset.UtcNow.AddDays(31));

        var listed = (await _admin.GetFromJsonAsync<DeviceDto>($"devices/{device.Response.SubjectId}", PortalServer.Json))!;
        Assert.Equal(DeviceStatuses.Active, listed.Status);
        Assert.Equal(device.Certificate.SerialNumber, listed.CertificateSerial, ignoreCase: true);

        using var client = device.CreateClient(_portal);
        var first = await client.GetAsync("config/agent");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("application/json", first.Content.Headers.ContentType?.MediaType);
        var etag = first.Headers.ETag?.Tag;
        Assert.Matches("^\"v[0-9]+\"$", etag);
        var body = JsonNode.Parse(await first.Content.ReadAsByteArrayAsync())!["signed"]!["body"]!;
        Assert.Equal(tenant.Id.ToString(), (string?)body["tenant"]!["id"]);

        using var again = new HttpRequestMessage(HttpMethod.Get, "config/agent?wait=1");
        again.Headers.TryAddWithoutValidation("If-None-Match", etag);
        var watch = Stopwatch.StartNew();
        var notModified = await client.SendAsync(again).DefaultTimeout();
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(5));
        Assert.Equal(etag, notModified.Headers.ETag?.Tag);
    }

    [Fact]
    public async Task Expired_token_is_refused_and_creates_no_device()
    {
        var token = await Enrollee.CreateTokenAsync(_admin, expiresInHours: 1);
        _clock.Advance(TimeSpan.FromHours(2));
        await AssertRefusedAsync(await Enrollee.TryEnrollDeviceAsync(_portal, token));
        await AssertNoDevicesAsync();
    }

    [Fact]
    public async Task Single_use_token_is_refused_the_second_time()
    {
        var token = await Enrollee.CreateTokenAsync(_admin);
        using var first = await Enrollee.EnrollDeviceAsync(_portal, token);
        await AssertRefusedAsync(await Enrollee.TryEnrollDeviceAsync(_portal, token));
        var devices = (await _admin.GetFromJsonAsync<Page<DeviceDto>>("devices", PortalServer.Json))!;
        Assert.Equal([first.Response.SubjectId], devices.Items.Select(d => d.Id));
        var tokens = (await _admin.GetFromJsonAsync<Page<EnrollmentTokenDto>>("enrollment-tokens", PortalServer.Json))!;
        Assert.Equal(1, tokens.Items.Single().UseCount);
    }

    [Fact]
    public async Task Revoked_token_is_refused()
    {
        var created = await (await _admin.PostAsJsonAsync("enrollment-tokens", new CreateEnrollmentTokenRequest("x", null, null, 5), PortalServer.Json))
            .Content.ReadFromJsonAsync<CreateEnrollmentTokenResponse>(PortalServer.Json);
        Assert.Equal(HttpStatusCode.NoContent, (await _admin.DeleteAsync($"enrollment-tokens/{created!.EnrollmentToken.Id}")).StatusCode);
        await AssertRefusedAsync(await Enrollee.TryEnrollDeviceAsync(_portal, created.Token));
        await AssertNoDevicesAsync();
    }

    [Fact]
    public async Task Made_up_token_is_refused()
    {
        await AssertRefusedAsync(await Enrollee.TryEnrollDeviceAsync(_portal, "ghe_" + new string('A', 43)));
        await AssertNoDevicesAsync();
    }

    [Fact]
    public async Task Token_of_another_tenant_enrolls_into_that_tenant_only()
    {
        var (tenantB, ownerB, _, _) = await _portal.CreateTenantAsync("tenant-b");
        using (ownerB)
        {
            var token = await Enrollee.CreateTokenAsync(ownerB);
            using var device = await Enrollee.EnrollDeviceAsync(_portal, token);
            Assert.Equal(tenantB.Id, device.Response.TenantId);
            Assert.Equal(tenantB.Id.ToString(), CertificateIdentity.FromCertificate(device.Certificate)!.TenantId);
            await AssertNoDevicesAsync();
            Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync($"devices/{device.Response.SubjectId}")).StatusCode);
            Assert.Single((await ownerB.GetFromJsonAsync<Page<DeviceDto>>("devices", PortalServer.Json))!.Items);

            using var client = device.CreateClient(_portal);
            var bundle = JsonNode.Parse(await client.GetByteArrayAsync("config/agent"))!;
            Assert.Equal(tenantB.Id.ToString(), (string?)bundle["signed"]!["tenant"]);
        }
    }

    [Fact]
    public async Task Concurrent_enrollments_with_a_single_use_token_let_exactly_one_through()
    {
        var token = await Enrollee.CreateTokenAsync(_admin);
        var attempts = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Enrollee.TryEnrollDeviceAsync(_portal, token))).DefaultTimeout();
        Assert.Single(attempts, r => r.StatusCode == HttpStatusCode.OK);
        Assert.Equal(5, attempts.Count(r => r.StatusCode == HttpStatusCode.Unauthorized));
        Assert.Single((await _admin.GetFromJsonAsync<Page<DeviceDto>>("devices", PortalServer.Json))!.Items);
    }

    [Fact]
    public async Task Bad_csr_is_refused_with_field_csrPem_and_does_not_use_the_token()
    {
        var token = await Enrollee.CreateTokenAsync(_admin);
        using var rsa = RSA.Create(2048);
        var rsaCsr = new CertificateRequest("CN=laptop", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();
        foreach (var csr in new[] { "not a csr", rsaCsr, Tamper(CertificateSigningRequests.Create(ECDsa.Create(ECCurve.NamedCurves.nistP256), "laptop")) })
        {
            var response = await Enrollee.TryEnrollDeviceAsync(_portal, token, csr);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal("csrPem", (string?)problem["field"]);
        }

        await AssertNoDevicesAsync();
        using var device = await Enrollee.EnrollDeviceAsync(_portal, token);
    }

    [Fact]
    public async Task Renewal_issues_a_new_certificate_and_the_old_one_is_refused()
    {
        using var device = await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin));
        using var old = Enrollee.WithKey(device.Response.CertificatePem, device.Key);

        var renewed = await device.RenewAsync(_portal);
        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
        Assert.NotEqual(old.SerialNumber, device.Certificate.SerialNumber);
        Assert.Equal(device.Response.SubjectId.ToString(), CertificateIdentity.FromCertificate(device.Certificate)!.SubjectId);

        using (var fresh = device.CreateClient(_portal))
        {
            Assert.Equal(HttpStatusCode.OK, (await fresh.GetAsync("config/agent")).StatusCode);
        }

        using var stale = _portal.CreateClient(clientCertificate: old);
        Assert.Equal(HttpStatusCode.Unauthorized, (await stale.GetAsync("config/agent")).StatusCode);
        var listed = (await _admin.GetFromJsonAsync<DeviceDto>($"devices/{device.Response.SubjectId}", PortalServer.Json))!;
        Assert.Equal(device.Certificate.SerialNumber, listed.CertificateSerial, ignoreCase: true);
    }

    /// <summary>Flips a byte inside the base64 of a CSR so its signature no longer verifies.</summary>
    private static string Tamper(string csrPem)
    {
        var der = Convert.FromBase64String(string.Concat(csrPem.Split('\n').Where(l => !l.StartsWith("-----", StringComparison.Ordinal))));
        der[40] ^= 0x01;
        return "-----BEGIN CERTIFICATE REQUEST-----\n" + Convert.ToBase64String(der, Base64FormattingOptions.InsertLineBreaks) + "\n-----END CERTIFICATE REQUEST-----\n";
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("The enrollment token is not valid.", (string?)problem["detail"]);
    }

    private async Task AssertNoDevicesAsync() =>
        Assert.Empty((await _admin.GetFromJsonAsync<Page<DeviceDto>>("devices", PortalServer.Json))!.Items);
}
