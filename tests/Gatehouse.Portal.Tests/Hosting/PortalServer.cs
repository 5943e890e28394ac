using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gatehouse.Portal.Hosting;
using Gatehouse.Wire.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Portal.Tests.Hosting;

/// <summary>A real portal on a loopback port with its own data directory, as a user would run it.</summary>
public sealed class PortalServer : IAsyncDisposable
{
    public const string OwnerEmail = "owner@example.test";
    public const string OwnerPassword = "correct horse battery staple";

    private readonly WebApplication _app;

    private PortalServer(WebApplication app, string dataDirectory, Uri baseAddress)
    {
        _app = app;
        DataDirectory = dataDirectory;
        BaseAddress = baseAddress;
        TlsCertificate = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(dataDirectory, PortalTlsCertificate.CertificateFile));
    }

    public string DataDirectory { get; }

    /// <summary>The database engine this portal runs on.</summary>
    public string Engine { get; private init; } = PortalEngines.Sqlite;

    public Uri BaseAddress { get; }

    public X509Certificate2 TlsCertificate { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// Starts a portal on PostgreSQL when a connection string is given, else on the suite's default
    /// engine: SQLite, or PostgreSQL when <c>GATEHOUSE_PORTAL_TEST_ENGINE=postgresql</c> (./test.sh runs
    /// the portal suite once more that way). <paramref name="time"/> replaces the clock.
    /// </summary>
    public static async Task<PortalServer> StartAsync(string? postgres = null, Action<PortalOptions>? configure = null, TimeProvider? time = null) =>
        await StartOnAsync(postgres ?? (PortalEngines.Default == PortalEngines.Postgres ? await SharedPostgres.CreateDatabaseAsync() : null), configure, time);

    /// <summary>Starts a portal on the suite's default engine with services the test adds (a bundle contributor that watches builds).</summary>
    public static async Task<PortalServer> StartWithServicesAsync(Action<IServiceCollection> services) =>
        await StartOnAsync(PortalEngines.Default == PortalEngines.Postgres ? await SharedPostgres.CreateDatabaseAsync() : null, null, null, null, services);

    /// <summary>Starts a portal on SQLite whatever the suite's default engine, on a fresh data directory or on <paramref name="dataDirectory"/> (deleted with the portal).</summary>
    public static Task<PortalServer> StartOnSqliteAsync(string? dataDirectory = null) => StartOnAsync(null, null, null, dataDirectory);

    /// <summary>
    /// Starts a portal on the suite's default engine with a data directory the test prepared (an
    /// update repository an older build made); <paramref name="services"/> adds services (a log recorder).
    /// The directory is deleted with the portal.
    /// </summary>
    public static async Task<PortalServer> StartOnDataDirectoryAsync(string dataDirectory, Action<IServiceCollection>? services = null) =>
        await StartOnAsync(PortalEngines.Default == PortalEngines.Postgres ? await SharedPostgres.CreateDatabaseAsync() : null, null, null, dataDirectory, services);

    private static async Task<PortalServer> StartOnAsync(string? postgres, Action<PortalOptions>? configure, TimeProvider? time, string? dataDirectory = null, Action<IServiceCollection>? services = null)
    {
        dataDirectory ??= Directory.CreateTempSubdirectory("gatehouse-portal-test-").FullName;
        var app = PortalHost.Build([], options =>
        {
            options.Listen = "https://127.0.0.1:0";
            options.DataDirectory = dataDirectory;
            options.Postgres = postgres;
            options.OwnerEmail = OwnerEmail;
            options.OwnerPassword = OwnerPassword;
            configure?.Invoke(options);
        }, collection =>
        {
            if (time is not null)
            {
                collection.AddSingleton(time);
            }

            services?.Invoke(collection);
        });
        await PortalHost.StartAsync(app, TextWriter.Null);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new PortalServer(app, dataDirectory, new Uri(address)) { Engine = postgres is null ? PortalEngines.Sqlite : PortalEngines.Postgres };
    }

    /// <summary>An HttpClient that trusts exactly this portal's certificate, keeps cookies and presents <paramref name="clientCertificate"/>.</summary>
    public HttpClient CreateClient(CookieContainer? cookies = null, X509Certificate2? clientCertificate = null)
    {
        var handler = new SocketsHttpHandler
        {
            CookieContainer = cookies ?? new CookieContainer(),
            SslOptions = { RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && cert.GetCertHashString() == TlsCertificate.Thumbprint },
        };
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate];
        }

        return new HttpClient(handler) { BaseAddress = new Uri(BaseAddress, "/api/v1/") };
    }

    /// <summary>Signs in with a session and returns a client that sends the CSRF token on changes.</summary>
    public async Task<HttpClient> SignInAsync(string email = OwnerEmail, string password = OwnerPassword)
    {
        var client = CreateClient();
        var response = await client.PostAsJsonAsync("auth/login", new LoginRequest(email, password));
        response.EnsureSuccessStatusCode();
        var login = await response.Content.ReadFromJsonAsync<LoginResponse>(Json);
        client.DefaultRequestHeaders.Add("X-CSRF-Token", login!.CsrfToken);
        return client;
    }

    /// <summary>A client authenticated by a fresh API token of the given admin.</summary>
    public async Task<HttpClient> TokenClientAsync(string email = OwnerEmail, string password = OwnerPassword, params string[] scopes)
    {
        using var session = await SignInAsync(email, password);
        var response = await session.PostAsJsonAsync("tokens", new CreateApiTokenRequest("test", scopes.Length == 0 ? TokenScopes.All : scopes, 1));
        response.EnsureSuccessStatusCode();
        var created = await response.Content.ReadFromJsonAsync<CreateApiTokenResponse>(Json);
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", created!.Token);
        return client;
    }

    /// <summary>Creates a tenant with an owner whose one-time password is already replaced.</summary>
    public async Task<(TenantDto Tenant, HttpClient Owner, string OwnerEmail, string Password)> CreateTenantAsync(string name)
    {
        using var operatorClient = await SignInAsync();
        var email = $"owner@{name}.example";
        var response = await operatorClient.PostAsJsonAsync("tenants", new CreateTenantRequest(name, email));
        response.EnsureSuccessStatusCode();
        var created = (await response.Content.ReadFromJsonAsync<CreateTenantResponse>(Json))!;
        var password = $"{name}-password-long-enough";
        using (var first = await SignInAsync(email, created.OneTimePassword))
        {
            (await first.PostAsJsonAsync("auth/password", new ChangePasswordRequest(created.OneTimePassword, password))).EnsureSuccessStatusCode();
        }

        return (created.Tenant, await SignInAsync(email, password), email, password);
    }

    public static readonly JsonSerializerOptions Json = CreateJson();

    private static JsonSerializerOptions CreateJson()
    {
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        PortalHost.ConfigureJson(json);
        return json;
    }

    public async ValueTask DisposeAsync()
    {
        var postgres = _app.Services.GetService<Gatehouse.Portal.Storage.StorageOptions>()?.PostgresConnectionString;
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (postgres is not null)
        {
            // Each test has its own database and so its own pool; close it rather than keep idle connections to a shared server.
            using var pooled = new Npgsql.NpgsqlConnection(Gatehouse.Portal.Storage.StorageServiceCollectionExtensions.WithPoolDefaults(postgres));
            Npgsql.NpgsqlConnection.ClearPool(pooled);
        }
        TlsCertificate.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // SQLite may still hold the file for a moment; the temp folder is cleaned by the OS.
        }
    }
}
