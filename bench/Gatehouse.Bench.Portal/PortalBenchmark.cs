using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Testing;
using Gatehouse.Testing.Postgres;

namespace Gatehouse.Bench.Portal;

/// <summary>
/// One run, one portal process on PostgreSQL:
///   1. enroll N devices (real keys, CSRs and certificates), each with its own TLS connection;
///   2. all N long-poll their config; measure the portal's CPU while they wait;
///   3. an admin makes one change; measure how long until every device has the new bundle;
///   4. seed 100,000 devices and page through them; p99 against the same keyset query run
///      directly on PostgreSQL (the peer);
///   5. an edge ships batches of 1,000 transaction log records; latency per batch against a binary
///      COPY of the same rows (the peer).
/// With <c>--sqlite</c> the portal runs on SQLite and only the log round runs (it has no peer there).
/// <c>--devices 0</c> and <c>--listing-devices 0</c> skip those rounds.
/// </summary>
internal static class PortalBenchmark
{
    private const string OwnerEmail = "bench@gatehouse.local";
    private const string OwnerPassword = "benchmark-owner-password";

    public static async Task<int> RunAsync(string[] args)
    {
        var devices = IntArg(args, "--devices", 10_000);
        var listingRows = IntArg(args, "--listing-devices", 100_000);
        var logBatches = IntArg(args, "--log-batches", 50);
        var sqlite = args.Contains("--sqlite");
        var portalDll = StringArg(args, "--portal-dll") ?? throw new ArgumentException("--portal-dll PATH is required (bench/portal.sh passes it).");

        await using var postgres = sqlite ? null : await PostgresServer.StartAsync() ?? throw new InvalidOperationException(PostgresServer.UnavailableReason);
        var database = postgres is null ? null : await postgres.CreateDatabaseAsync("gatehouse_bench");
        await using var portal = await PortalProcess.StartAsync(portalDll, FreePort.GetLoopbackTcpPort(), database, OwnerEmail, OwnerPassword);
        using var portalCertificate = X509CertificateLoader.LoadCertificateFromFile(portal.CertificatePath);
        using var admin = await AdminClient.SignInAsync(portal.Address, portalCertificate, OwnerEmail, OwnerPassword);

        if (database is null)
        {
            Console.WriteLine($"portal benchmark on SQLite: {logBatches:N0} log batches");
            await LogIngestRound.RunAsync(portal, admin, portalCertificate, null, logBatches);
            return 0;
        }

        Console.WriteLine($"portal benchmark: {devices:N0} long-polling devices, {listingRows:N0} devices listed, {logBatches:N0} log batches, PostgreSQL {postgres!.BinDirectory}");
        if (devices > 0)
        {
            var fleet = await DeviceFleet.EnrollAsync(admin, portal.Address, portalCertificate, devices);
            await using (fleet)
            {
                await LongPollRoundAsync(portal, admin, fleet);
            }
        }

        if (listingRows > 0)
        {
            await ListingRoundAsync(admin, database, listingRows);
        }

        if (logBatches > 0)
        {
            await LogIngestRound.RunAsync(portal, admin, portalCertificate, database, logBatches);
        }

        return 0;
    }

    private static async Task LongPollRoundAsync(PortalProcess portal, AdminClient admin, DeviceFleet fleet)
    {
        var etags = await fleet.FetchAllAsync();
        var parking = Stopwatch.StartNew();
        var parkingCpu = portal.CpuTime();
        var polls = fleet.LongPollAll(etags, TimeSpan.FromSeconds(60));
        var parked = await admin.WaitForLongPollsAsync(fleet.Count, TimeSpan.FromSeconds(45));
        Console.WriteLine($"{parked:N0} long polls parked in the portal after {parking.Elapsed.TotalSeconds:F1} s (portal CPU {(portal.CpuTime() - parkingCpu).TotalSeconds:F1} s)");

        var idleCpuBefore = portal.CpuTime();
        var idleWatch = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(5));
        var idleCpu = (portal.CpuTime() - idleCpuBefore) / idleWatch.Elapsed;
        var rss = portal.ResidentBytes();

        var cpuBefore = portal.CpuTime();
        var changedAt = Stopwatch.GetTimestamp();
        await admin.MakeAgentConfigChangeAsync();
        var arrivals = await polls;
        var wave = Stopwatch.GetElapsedTime(changedAt);
        var waveCpu = portal.CpuTime() - cpuBefore;

        var delays = arrivals.Where(a => a.Changed).Select(a => Stopwatch.GetElapsedTime(changedAt, a.At).TotalMilliseconds).ToList();
        var missed = arrivals.Length - delays.Count;
        foreach (var outcome in arrivals.Where(a => !a.Changed).GroupBy(a => a.Outcome))
        {
            Console.WriteLine($"  {outcome.Count():N0} polls ended without the change: {outcome.Key}");
        }

        Console.WriteLine($"long poll: {fleet.Count:N0} devices waiting, portal RSS {rss / 1048576.0:F0} MiB, CPU while waiting {idleCpu:P1} of one core");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"config change reached {delays.Count:N0}/{fleet.Count:N0} devices: p50 {Percentiles.Of(delays, 50):F0} ms, p99 {Percentiles.Of(delays, 99):F0} ms, max {delays.DefaultIfEmpty(double.NaN).Max():F0} ms; portal CPU {waveCpu.TotalSeconds:F2} s over {wave.TotalSeconds:F2} s"));
        Console.WriteLine(missed == 0 ? $"devices served: {fleet.Count:N0} (all received the change)" : $"devices served: {delays.Count:N0} ({missed:N0} did not receive the change)");
    }

    private static async Task ListingRoundAsync(AdminClient admin, string database, int rows)
    {
        var tenantId = await admin.TenantIdAsync();
        var seeded = Stopwatch.StartNew();
        await DeviceSeeder.SeedAsync(database, tenantId, rows);
        Console.WriteLine($"seeded {rows:N0} devices in {seeded.Elapsed.TotalSeconds:F1} s");

        var api = await admin.WalkDevicePagesAsync(limit: 100);
        var direct = await DeviceSeeder.WalkDirectlyAsync(database, tenantId, limit: 100);
        var apiP99 = Percentiles.Of(api, 99);
        var directP99 = Percentiles.Of(direct, 99);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"device listing, {api.Count:N0} pages of 100: portal p50 {Percentiles.Of(api, 50):F2} ms, p99 {apiP99:F2} ms; direct SQL p50 {Percentiles.Of(direct, 50):F2} ms, p99 {directP99:F2} ms"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"portal/direct-sql listing p99 ratio {apiP99 / directP99:F1}"));
    }

    private static int IntArg(string[] args, string name, int fallback) =>
        StringArg(args, name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private static string? StringArg(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
