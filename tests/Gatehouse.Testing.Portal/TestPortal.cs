using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gatehouse.Portal.Hosting;
using Gatehouse.Wire.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Testing.Portal;

/// <summary>
/// A real portal on loopback with its own data directory (the few lines of the portal suite's
/// PortalServer a node needs), which can be stopped and started again on the same directory and port.
/// </summary>
public sealed class TestPortal : IAsyncDisposable
{
    public const string OwnerEmail = "owner@example.test";
    public const string OwnerPassword = "correct horse battery staple";

    public static readonly JsonSerializerOptions Json = CreateJson();

    private readonly Action<PortalOptions>? _configure;
    private WebApplication? _app;

    private TestPortal(string dataDirectory, Action<PortalOptions>? configure)
    {
        DataDirectory = dataDirectory;
        _configure = configure;
    }

    public string DataDirectory { get; }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The running portal's services (its database, for tests that read what devices reported).</summary>
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("the portal is stopped");

    /// <summary>The portal's self-signed TLS certificate, which nodes pin.</summary>
    public string TlsCertificatePem => File.ReadAllText(Path.Combine(DataDirectory, PortalTlsCertificate.CertificateFile));

    /// <summary>Starts a portal on SQLite in a temporary directory.</summary>
    /// <param name="configure">Changes to its options (a rollout evaluation every second, for tests that watch rollouts).</param>
    public static async Task<TestPortal> StartAsync(Action<PortalOptions>? configure = null)
    {
        var portal = new TestPortal(Directory.CreateTempSubdirectory("gatehouse-test-portal-").FullName, configure);
        await portal.RunAsync("https://127.0.0.1:0");
        return portal;
    }

    /// <summary>Stops the portal; its data directory stays.</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>Starts the portal again on the same data directory and port.</summary>
    public Task RestartAsync() => RunAsync($"https://127.0.0.1:{BaseAddress.Port}");

    /// <summary>Signs in as the owner; the client sends the CSRF token on changes.</summary>
    public async Task<HttpClient> SignInAsync()
    {
        var client = CreateClient();
        var response = await client.PostAsJsonAsync("auth/login", new LoginRequest(OwnerEmail, OwnerPassword), Json);
        response.EnsureSuccessStatusCode();
        var login = await response.Content.ReadFromJsonAsync<LoginResponse>(Json);
        client.DefaultRequestHeaders.Add("X-CSRF-Token", login!.CsrfToken);
        return client;
    }

    public HttpClient CreateClient()
    {
        using var tls = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(TlsCertificatePem);
        var pinned = tls.RawData;
        var handler = new SocketsHttpHandler
        {
            CookieContainer = new CookieContainer(),
            SslOptions = { RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && cert.GetRawCertData().AsSpan().SequenceEqual(pinned) },

            // A request sent with Expect: 100-continue waits for the portal's answer, however loaded the machine: after the
            // default second the body went anyway, and a refusal (413) closed the connection under the client's writes.
            Expect100ContinueTimeout = TimeSpan.FromSeconds(30),
        };
        return new HttpClient(handler) { BaseAddress = new Uri(BaseAddress, "/api/v1/") };
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // SQLite may still hold the file for a moment; the temp folder is cleaned by the OS.
        }
    }

    private async Task RunAsync(string listen)
    {
        var app = PortalHost.Build([], options =>
        {
            options.Listen = listen;
            options.DataDirectory = DataDirectory;
            options.OwnerEmail = OwnerEmail;
            options.OwnerPassword = OwnerPassword;
            _configure?.Invoke(options);
        });
        await PortalHost.StartAsync(app, TextWriter.Null);
        _app = app;
        BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
    }

    private static JsonSerializerOptions CreateJson()
    {
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        PortalHost.ConfigureJson(json);
        return json;
    }
}
