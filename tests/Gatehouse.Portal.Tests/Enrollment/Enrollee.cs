using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Trust.Certificates;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Enrollment;

namespace Gatehouse.Portal.Tests.Enrollment;

/// <summary>A device, edge or connector as it enrolls: key made locally, only the CSR sent.</summary>
public sealed class Enrollee : IDisposable
{
    private Enrollee(ECDsa key, EnrollResponse response)
    {
        Key = key;
        Response = response;
        Certificate = WithKey(response.CertificatePem, key);
    }

    public ECDsa Key { get; }

    public EnrollResponse Response { get; private set; }

    public X509Certificate2 Certificate { get; private set; }

    public static async Task<string> CreateTokenAsync(HttpClient admin, int? maxUses = null, int? expiresInHours = null, Guid? userId = null)
    {
        var response = await admin.PostAsJsonAsync("enrollment-tokens", new CreateEnrollmentTokenRequest("test", userId, expiresInHours, maxUses), PortalServer.Json);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CreateEnrollmentTokenResponse>(PortalServer.Json))!.Token;
    }

    public static async Task<string> CreateProvisioningKeyAsync(HttpClient admin, string kind, Guid? connectorGroupId = null)
    {
        var response = await admin.PostAsJsonAsync("provisioning-keys", new CreateProvisioningKeyRequest("test", kind, connectorGroupId, null, 5), PortalServer.Json);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CreateProvisioningKeyResponse>(PortalServer.Json))!.Key;
    }

    public static Task<HttpResponseMessage> TryEnrollDeviceAsync(PortalServer portal, string token, string? csrPem = null)
    {
        using var key = CertificateSigningRequests.CreateKey();
        return PostAsync(portal, "enroll/device", new DeviceEnrollRequest(token, csrPem ?? CertificateSigningRequests.Create(key, "laptop"), "laptop", "linux", "1.0.0"));
    }

    public static async Task<Enrollee> EnrollDeviceAsync(PortalServer portal, string token)
    {
        var key = CertificateSigningRequests.CreateKey();
        var response = await PostAsync(portal, "enroll/device", new DeviceEnrollRequest(token, CertificateSigningRequests.Create(key, "laptop"), "laptop", "linux", "1.0.0"));
        return new Enrollee(key, await ReadAsync(response));
    }

    public static async Task<Enrollee> EnrollEdgeAsync(PortalServer portal, string provisioningKey, string address = "edge1.example.test:7444")
    {
        var key = CertificateSigningRequests.CreateKey();
        var response = await PostAsync(portal, "enroll/edge", new ServiceEnrollRequest(provisioningKey, CertificateSigningRequests.Create(key, "edge1"), "edge1", address));
        return new Enrollee(key, await ReadAsync(response));
    }

    public static async Task<Enrollee> EnrollConnectorAsync(PortalServer portal, string provisioningKey)
    {
        var key = CertificateSigningRequests.CreateKey();
        var response = await PostAsync(portal, "enroll/connector", new ServiceEnrollRequest(provisioningKey, CertificateSigningRequests.Create(key, "connector1"), "connector1", null));
        return new Enrollee(key, await ReadAsync(response));
    }

    /// <summary>The enrollee an enrollment answered, with the key its CSR was made from; fails the test if it was refused.</summary>
    public static async Task<Enrollee> FromAsync(ECDsa key, HttpResponseMessage response) => new(key, await ReadAsync(response));

    /// <summary>Renews with a CSR of the same key; the new certificate replaces the old one here.</summary>
    public async Task<HttpResponseMessage> RenewAsync(PortalServer portal)
    {
        using var client = CreateClient(portal);
        var response = await client.PostAsJsonAsync("enroll/renew", new RenewRequest(CertificateSigningRequests.Create(Key, "renewed")), PortalServer.Json);
        if (response.IsSuccessStatusCode)
        {
            Response = (await response.Content.ReadFromJsonAsync<EnrollResponse>(PortalServer.Json))!;
            Certificate = WithKey(Response.CertificatePem, Key);
        }

        return response;
    }

    public HttpClient CreateClient(PortalServer portal) => portal.CreateClient(clientCertificate: Certificate);

    public static X509Certificate2 WithKey(string certificatePem, ECDsa key)
    {
        using var certificate = X509Certificate2.CreateFromPem(certificatePem);
        return certificate.CopyWithPrivateKey(key);
    }

    private static async Task<HttpResponseMessage> PostAsync(PortalServer portal, string path, object body)
    {
        using var client = portal.CreateClient();
        return await client.PostAsJsonAsync(path, body, PortalServer.Json);
    }

    private static async Task<EnrollResponse> ReadAsync(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<EnrollResponse>(PortalServer.Json))!;
    }

    public void Dispose()
    {
        Certificate.Dispose();
        Key.Dispose();
    }
}
