using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Trust.Certificates;
using Gatehouse.Wire.Enrollment;

namespace Gatehouse.Bench.Portal;

/// <summary>Enrolled devices, each with its own key, certificate and TLS connection to the portal.</summary>
internal sealed class DeviceFleet : IAsyncDisposable
{
    private const int Parallelism = 64;
    private readonly List<HttpClient> _devices;

    private DeviceFleet(List<HttpClient> devices) => _devices = devices;

    public int Count => _devices.Count;

    public readonly record struct Arrival(bool Changed, long At, string Outcome);

    public static async Task<DeviceFleet> EnrollAsync(AdminClient admin, Uri portal, X509Certificate2 portalCertificate, int count)
    {
        var token = await admin.CreateEnrollmentTokenAsync(count);
        using var enroller = new HttpClient(AdminClient.Trusting(portalCertificate)) { BaseAddress = new Uri(portal, "/api/v1/") };
        var devices = new HttpClient[count];
        var started = Stopwatch.StartNew();
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (i, ct) =>
        {
            using var key = CertificateSigningRequests.CreateKey();
            var csr = CertificateSigningRequests.Create(key, $"bench-device-{i}");
            var response = await enroller.PostAsJsonAsync("enroll/device", new DeviceEnrollRequest(token, csr, $"bench-device-{i}", "linux", "bench"), ct);
            var enrolled = await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<EnrollResponse>(ct);
            using var certificate = X509Certificate2.CreateFromPem(enrolled!.CertificatePem).CopyWithPrivateKey(key);
            var handler = AdminClient.Trusting(portalCertificate);
            handler.SslOptions.ClientCertificates = [X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null)];
            handler.MaxConnectionsPerServer = 1;
            handler.PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5);
            devices[i] = new HttpClient(handler) { BaseAddress = new Uri(portal, "/api/v1/"), Timeout = TimeSpan.FromSeconds(120) };
        });
        Console.WriteLine($"enrolled {count:N0} devices in {started.Elapsed.TotalSeconds:F1} s ({count / started.Elapsed.TotalSeconds:F0}/s)");
        return new DeviceFleet([.. devices]);
    }

    /// <summary>Every device fetches its bundle once (opening its TLS connection); returns the ETags.</summary>
    public async Task<string[]> FetchAllAsync()
    {
        var etags = new string[_devices.Count];
        var started = Stopwatch.StartNew();
        await Parallel.ForAsync(0, _devices.Count, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, async (i, ct) =>
        {
            using var response = await _devices[i].GetAsync("config/agent", ct);
            response.EnsureSuccessStatusCode();
            etags[i] = response.Headers.ETag!.Tag;
        });
        Console.WriteLine($"first config fetch by {_devices.Count:N0} devices (TLS with client certificates) in {started.Elapsed.TotalSeconds:F1} s");
        return etags;
    }

    /// <summary>Starts one long poll per device; completes when all have answered.</summary>
    public Task<Arrival[]> LongPollAll(string[] etags, TimeSpan wait) =>
        Task.WhenAll(_devices.Select((device, i) => LongPollAsync(device, etags[i], wait)));

    private static async Task<Arrival> LongPollAsync(HttpClient device, string etag, TimeSpan wait)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"config/agent?wait={(int)wait.TotalSeconds}");
        request.Headers.TryAddWithoutValidation("If-None-Match", etag);
        try
        {
            using var response = await device.SendAsync(request, HttpCompletionOption.ResponseContentRead);
            var at = Stopwatch.GetTimestamp();
            var changed = response.StatusCode == HttpStatusCode.OK && response.Headers.ETag?.Tag != etag;
            return new Arrival(changed, at, $"HTTP {(int)response.StatusCode}");
        }
        catch (HttpRequestException e)
        {
            return new Arrival(false, Stopwatch.GetTimestamp(), e.Message);
        }
    }

    public ValueTask DisposeAsync()
    {
        foreach (var device in _devices)
        {
            device.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
