using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gatehouse.Wire.Api;

namespace Gatehouse.Bench.Portal;

/// <summary>The admin side of the benchmark, over the public API with an API token.</summary>
internal sealed class AdminClient(HttpClient http) : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public HttpClient Http => http;

    public static async Task<AdminClient> SignInAsync(Uri portal, X509Certificate2 portalCertificate, string email, string password)
    {
        var session = new HttpClient(Trusting(portalCertificate)) { BaseAddress = new Uri(portal, "/api/v1/") };
        var login = await (await session.PostAsJsonAsync("auth/login", new LoginRequest(email, password))).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<LoginResponse>(Json);
        session.DefaultRequestHeaders.Add("X-CSRF-Token", login!.CsrfToken);
        var token = await (await session.PostAsJsonAsync("tokens", new CreateApiTokenRequest("bench", TokenScopes.All, 1))).EnsureSuccessStatusCode().Content.ReadFromJsonAsync<CreateApiTokenResponse>(Json);
        session.Dispose();

        var client = new HttpClient(Trusting(portalCertificate)) { BaseAddress = new Uri(portal, "/api/v1/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token!.Token);
        return new AdminClient(client);
    }

    public static SocketsHttpHandler Trusting(X509Certificate2 portalCertificate) => new()
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && cert.GetCertHashString() == portalCertificate.Thumbprint },
    };

    public async Task<Guid> TenantIdAsync() => (await http.GetFromJsonAsync<TenantDetailsDto>("tenant", Json))!.Id;

    public async Task<string> CreateEnrollmentTokenAsync(int uses)
    {
        var response = await http.PostAsJsonAsync("enrollment-tokens", new CreateEnrollmentTokenRequest("bench", null, 24, uses), Json);
        return (await response.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<CreateEnrollmentTokenResponse>(Json))!.Token;
    }

    /// <summary>A change every agent's bundle carries: a new private app segment.</summary>
    public async Task MakeAgentConfigChangeAsync()
    {
        var response = await http.PostAsJsonAsync("app-segments", new AppSegmentRequest("bench-app", Domains: ["bench.corp.internal"], Ports: ["443"]), Json);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"The config change failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>Waits until the portal's metrics show <paramref name="count"/> long polls waiting; returns how many did.</summary>
    public async Task<long> WaitForLongPollsAsync(int count, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        long waiting = 0;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var metrics = await http.GetStringAsync(new Uri(http.BaseAddress!, "/metrics"));
            var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith("gatehouse_portal_config_long_polls ", StringComparison.Ordinal));
            waiting = line is null ? 0 : long.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            if (waiting >= count)
            {
                break;
            }

            await Task.Delay(200);
        }

        return waiting;
    }

    /// <summary>Walks every page of the device listing; returns each page's latency in milliseconds.</summary>
    public async Task<List<double>> WalkDevicePagesAsync(int limit)
    {
        var latencies = new List<double>();
        string? cursor = null;
        do
        {
            var started = Stopwatch.GetTimestamp();
            var page = await http.GetFromJsonAsync<Page<DeviceDto>>($"devices?limit={limit}" + (cursor is null ? "" : $"&cursor={cursor}"), Json);
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            cursor = page!.NextCursor;
        }
        while (cursor is not null);
        return latencies;
    }

    public void Dispose() => http.Dispose();
}
