using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gatehouse.Hosting;
using Gatehouse.Observability;
using Gatehouse.Portal.AccessPolicies;
using Gatehouse.Portal.Admins;
using Gatehouse.Portal.Api;
using Gatehouse.Portal.AppSegments;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Categories;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Connectors;
using Gatehouse.Portal.Devices;
using Gatehouse.Portal.Dr;
using Gatehouse.Portal.Edges;
using Gatehouse.Portal.Enrollment;
using Gatehouse.Portal.Logs;
using Gatehouse.Portal.Policies;
using Gatehouse.Portal.Profiles;
using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tenants;
using Gatehouse.Portal.Updates;
using Gatehouse.Portal.Users;
using Gatehouse.Trust;
using Gatehouse.Trust.Certificates;
using Gatehouse.Trust.Secrets;
using Gatehouse.Wire;
using Gatehouse.Wire.Api;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Gatehouse.Portal.Hosting;

/// <summary>Builds and runs the portal: REST API, health and metrics on one HTTPS listener.</summary>
public static class PortalHost
{
    /// <summary>The meter every portal instrument hangs off.</summary>
    public const string MeterName = "Gatehouse.Portal";

    private static readonly Dictionary<string, string> SwitchMappings = new()
    {
        ["--listen"] = "Portal:Listen",
        ["--data-dir"] = "Portal:DataDirectory",
        ["--postgres"] = "Portal:Postgres",
    };

    /// <summary>What <c>gatehouse-portal --help</c> prints.</summary>
    public const string Usage = """
        Usage:
          gatehouse-portal [--listen https://ADDRESS:PORT] [--data-dir DIR] [--postgres CONNECTION-STRING]
              Runs the portal. Settings also come from GATEHOUSE_Portal__* variables and appsettings.json.
          gatehouse-portal backup DIRECTORY [the running portal's settings]
              Copies a running portal's database, keys and update repository (docs/operations.md).
          gatehouse-portal reset-password EMAIL [the running portal's settings]
              Gives an admin a new one-time password and ends the admin's sessions.
          gatehouse-portal schema-script sqlite|postgresql
              Prints the database schema.

        """;

    /// <summary>Runs the portal until it is stopped, or one of its commands; returns the exit code (2: bad arguments).</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (CommandLineProblem(args) is { } problem)
        {
            return await RefuseAsync(problem);
        }

        return args switch
        {
            ["--help" or "-h" or "help"] => await HelpAsync(),
            ["schema-script", var engine] => SchemaScriptCommand(engine),
            ["backup", var destination, .. var settings] => await BackupAsync(destination, settings),
            ["reset-password", var email, .. var settings] => await ResetPasswordAsync(email, settings),
            _ => await ServeAsync(args),
        };
    }

    /// <summary>
    /// Why <paramref name="args"/> are not a command line the portal takes, or null: checked before anything is
    /// created, so that a mistyped flag never starts a portal on the defaults.
    /// </summary>
    internal static string? CommandLineProblem(string[] args) => args switch
    {
        ["--help" or "-h" or "help"] or ["schema-script", _] => null,
        ["schema-script", ..] => "schema-script takes one engine: sqlite or postgresql",
        ["backup"] or ["backup", ['-', ..], ..] => "backup needs the DIRECTORY to copy to, before the settings",
        ["backup", _, .. var settings] => BadSetting(settings),
        ["reset-password"] or ["reset-password", ['-', ..], ..] => "reset-password needs the admin's EMAIL, before the settings",
        ["reset-password", _, .. var settings] => BadSetting(settings),
        _ => BadSetting(args),
    };

    private static async Task<int> HelpAsync()
    {
        await Console.Out.WriteAsync(Usage);
        return 0;
    }

    private static int SchemaScriptCommand(string engine)
    {
        Console.Out.Write(SchemaScript.Generate(engine));
        return 0;
    }

    private static async Task<int> RefuseAsync(string problem)
    {
        await Console.Error.WriteAsync($"gatehouse-portal: {problem}\n{Usage}");
        return 2;
    }

    private static async Task<int> ServeAsync(string[] args)
    {
        await using var app = Build(args);
        await StartAsync(app, Console.Out);
        await app.WaitForShutdownAsync();
        return 0;
    }

    private static async Task<int> ResetPasswordAsync(string email, string[] settings)
    {
        await using var tool = Build(settings);
        var password = await PasswordReset.ResetAsync(tool.Services, email, CancellationToken.None);
        await (password is null ? Console.Error.WriteLineAsync($"No admin has the email {email}.") : Console.Out.WriteLineAsync($"New one-time password for {email}: {password}"));
        return password is null ? 1 : 0;
    }

    /// <summary><c>gatehouse-portal backup DIRECTORY</c>, with the running portal's settings: see <see cref="PortalBackup"/>.</summary>
    private static async Task<int> BackupAsync(string destination, string[] settings)
    {
        var (_, options) = ReadOptions(settings, configure: null);
        try
        {
            var backup = await PortalBackup.CreateAsync(options.Storage, destination, CancellationToken.None);
            await Console.Out.WriteLineAsync($"Backed up to {backup.Directory}: {backup.Contents}. The keys of {backup.Tenants} tenant(s) decrypt with its master.key.");
            if (!backup.Database)
            {
                await Console.Out.WriteLineAsync("The database is PostgreSQL: dump it with pg_dump next to these files (docs/operations.md, \"Backup and restore\").");
            }

            await Console.Out.WriteLineAsync("Keep it off the portal's disk, and as secret as master.key: it holds every tenant's CA key.");
            return 0;
        }
        catch (PortalBackupException e)
        {
            await Console.Error.WriteLineAsync($"backup: {e.Message}");
            return 1;
        }
    }

    /// <summary>Prepares the database and starts serving; returns once the listener is up.</summary>
    public static async Task StartAsync(WebApplication app, TextWriter console)
    {
        ArgumentNullException.ThrowIfNull(app);
        await PortalStartup.PrepareAsync(app.Services, app.Services.GetRequiredService<PortalOptions>(), console, app.Lifetime.ApplicationStopping);
        await app.StartAsync();
    }

    /// <summary>Builds the portal application from command-line arguments and configuration.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="configure">Changes the options after configuration is read.</param>
    /// <param name="configureServices">Replaces services after the portal's own (tests use it for a clock).</param>
    public static WebApplication Build(string[] args, Action<PortalOptions>? configure = null, Action<IServiceCollection>? configureServices = null)
    {
        var (builder, options) = ReadOptions(args, configure);
        // The data directory holds the database, password hashes and keys: its owner alone may enter it.
        OwnerOnlyFile.CreateDirectory(options.DataDirectory);

        ConfigureKestrel(builder, options);
        ConfigureServices(builder.Services, options);
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        MapRoutes(app);
        return app;
    }

    /// <summary>
    /// Why <paramref name="args"/> are not settings the portal takes (<c>--listen</c>, <c>--data-dir</c>, <c>--postgres</c>,
    /// each with a value, as <c>--flag VALUE</c> or <c>--flag=VALUE</c>), or null. The configuration reader would take
    /// anything, and a mistyped flag would start a portal on the defaults: another data directory, new keys.
    /// </summary>
    private static string? BadSetting(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var equals = args[i].IndexOf('=', StringComparison.Ordinal);
            var name = equals > 0 ? args[i][..equals] : args[i];
            if (!SwitchMappings.ContainsKey(name))
            {
                return $"unknown argument '{args[i]}'";
            }

            if (equals < 0 && (++i >= args.Length || args[i].StartsWith("--", StringComparison.Ordinal)))
            {
                return $"{name} needs a value";
            }
        }

        return null;
    }

    /// <summary>The portal's settings from the command line, <c>GATEHOUSE_*</c> variables and appsettings.json; creates nothing.</summary>
    private static (WebApplicationBuilder Builder, PortalOptions Options) ReadOptions(string[] args, Action<PortalOptions>? configure)
    {
        var builder = ServerHost.CreateSlimBuilder(args);
        builder.Configuration.AddEnvironmentVariables("GATEHOUSE_");
        builder.Configuration.AddCommandLine(args, SwitchMappings);
        var options = builder.Configuration.GetSection(PortalOptions.Section).Get<PortalOptions>() ?? new PortalOptions();
        configure?.Invoke(options);
        options.DataDirectory = Path.GetFullPath(options.DataDirectory);
        return (builder, options);
    }

    private static void ConfigureKestrel(WebApplicationBuilder builder, PortalOptions options)
    {
        var listen = new Uri(options.Listen);
        if (listen.Scheme != Uri.UriSchemeHttps)
        {
            throw new InvalidOperationException($"Portal:Listen must be an https:// address; got {options.Listen}.");
        }

        var certificate = PortalTlsCertificate.LoadOrCreate(options.DataDirectory);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(15);
            kestrel.Listen(System.Net.IPAddress.Parse(listen.Host.Trim('[', ']')), listen.Port, listener =>
            {
                // The services exist once the host is built, after this runs: the logger is made at the first failure, once.
                ILogger? tlsLogger = null;
                var (quietFailures, handshakeDone) = TlsHandshakeFailures.Around((connection, e) =>
                {
                    tlsLogger ??= listener.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(PortalHost));
                    PortalLog.HandshakeFailed(tlsLogger, connection.RemoteEndPoint?.ToString() ?? "unknown", e.GetType().Name);
                });
                listener.Use(quietFailures);
                listener.UseHttps(https =>
                {
                    https.ServerCertificate = certificate;
                    // Devices, edges and connectors present their certificates here; admins present none.
                    https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                    https.AllowAnyClientCertificate();
                });
                listener.Use(handshakeDone);
            });
        });
    }

    private static void ConfigureServices(IServiceCollection services, PortalOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        var storage = options.Storage;
        services.AddPortalStorage(storage);
        services.AddSingleton(new SecretProtector(SecretProtector.LoadOrCreateMasterKey(storage.MasterKeyPath)));
        services.AddScoped<Caller>();
        services.AddScoped<AuditLog>();
        services.AddScoped<TenantProvisioner>();
        services.AddSingleton<IBundleContributor, PolicyBundleContributor>();
        services.AddSingleton<IBundleContributor, AccessPolicyBundleContributor>();
        services.AddSingleton<IBundleContributor, ConnectorListContributor>();
        services.AddSingleton<PolicyExplainer>();
        services.AddSingleton<IBundleContributor, CategoryBundleContributor>();
        services.AddSingleton<IBundleContributor, AppSegmentBundleContributor>();
        services.AddSingleton<IBundleContributor, ProfileBundleContributor>();
        services.AddSingleton<IBundleContributor, UserBundleContributor>();
        services.AddSingleton<IBundleContributor, ProxyCredentialContributor>();
        services.AddSingleton<IBundleContributor, DeviceBundleContributor>();
        services.AddSingleton<IBundleContributor, DrBundleContributor>();

        services.AddAuthentication(AdminAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, AdminAuthenticationHandler>(AdminAuthenticationHandler.SchemeName, null);
        services.AddAuthorization(AuthPolicies.Add);
        services.AddRateLimiter(SignInRateLimit.Add);
        services.AddEnrollment();
        services.AddConfigPublishing();
        services.AddSingleton<UpdateRepository>();
        services.AddSingleton<RolloutSupervisor>();
        services.AddHostedService(provider => provider.GetRequiredService<RolloutSupervisor>());
        services.AddSingleton<DrExporter>();
        services.AddHostedService(provider => provider.GetRequiredService<DrExporter>());
        services.AddSingleton<TransactionLogRetention>();
        services.AddHostedService(provider => provider.GetRequiredService<TransactionLogRetention>());

        services.Configure<JsonOptions>(json => ConfigureJson(json.SerializerOptions));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = context =>
            context.ProblemDetails.Detail ??= context.ProblemDetails.Status switch
            {
                404 => "No such route or object.",
                405 => "This route does not take that method.",
                413 => Api.ProblemMapping.TooLarge(context.HttpContext),
                415 => "The body must be JSON (Content-Type: application/json).",
                _ => context.ProblemDetails.Title,
            });
        services.AddExceptionHandler<ProblemMapping>();
        services.AddOpenApi("v1");

        // Created before any measurement so that nothing is missed; the process meter is the portal's own.
        services.AddSingleton(new PrometheusExporter("Gatehouse.", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"));
        services.AddSingleton(_ =>
        {
            var meter = new Meter(MeterName);
            ProcessMetrics.Register(meter);
            return meter;
        });
        services.AddSingleton<PortalMetrics>();
        services.AddMetrics();
    }

    /// <summary>The API's JSON rules: camelCase, enums as strings, unknown fields and missing required ones refused.</summary>
    public static void ConfigureJson(JsonSerializerOptions json)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        json.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        // {"action":"block", …, "action":"allow"} was read as its last value; a YAML document with it was refused.
        json.AllowDuplicateProperties = false;
        json.RespectNullableAnnotations = true;
        json.RespectRequiredConstructorParameters = true;
        json.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
    }

    private static void MapRoutes(WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseAuthorization();
        app.Use(BodyCharset.CheckAsync);

        app.MapGet("/healthz", HealthAsync).AllowAnonymous().ExcludeFromDescription();
        app.Services.GetRequiredService<Meter>();
        app.MapGet("/metrics", (PrometheusExporter exporter) => Results.Text(exporter.Render(), PrometheusExporter.ContentType)).AllowAnonymous().ExcludeFromDescription();
        app.MapOpenApi(WireVersion.ApiPrefix + "/openapi.json").AllowAnonymous();

        app.MapUpdateRepository();
        var api = app.MapGroup(WireVersion.ApiPrefix);
        api.MapAuth();
        api.MapTenants();
        api.MapAdmins();
        api.MapUsers();
        api.MapProxyCredentials();
        api.MapAudit();
        api.MapDevices();
        api.MapEnrollmentSecrets();
        api.MapEnrollment();
        api.MapEnrolledServices<Edge, EdgeDto>("edges", IdentityKinds.Edge, EdgeViews.ToDto);
        api.MapEnrolledServices<Connector, ConnectorDto>("connectors", IdentityKinds.Connector, ConnectorViews.ToDto);
        api.MapConfig();
        api.MapTransactionLogIngest();
        api.MapTransactionLogs();
        api.MapPolicies();
        api.MapAccessPolicy();
        api.MapConnectorStatus();
        api.MapPolicyExplain();
        api.MapCategories();
        api.MapAppSegments();
        api.MapProfiles();
        api.MapRollouts();
        api.MapDr();
    }

    private static async Task<IResult> HealthAsync(PortalDbContext db, StorageOptions storage, CancellationToken ct)
    {
        var databaseUp = await db.Database.CanConnectAsync(ct);
        var body = new { status = databaseUp ? "ok" : "degraded", database = storage.Engine };
        return databaseUp ? Results.Ok(body) : Results.Json(body, statusCode: 503);
    }
}
