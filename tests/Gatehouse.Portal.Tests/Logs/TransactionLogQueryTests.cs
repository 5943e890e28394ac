using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Gatehouse.Portal.Tests.Enrollment;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Portal.Tests.Logs;

public sealed class TransactionLogQueryTests : IAsyncLifetime
{
    private static readonly Guid AnaId = Guid.Parse("0190f0a0-0000-7000-8000-00000000a0a0");
    /// <summary>Yesterday 09:00 UTC: well inside the retention, never ahead of the portal's clock.</summary>
    private static readonly DateTimeOffset Start = new(DateTime.UtcNow.Date.AddDays(-1).AddHours(9), TimeSpan.Zero);

    private PortalServer _portal = null!;
    private HttpClient _admin = null!;
    private Enrollee _edge = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalServer.StartAsync();
        _admin = await _portal.SignInAsync();
        _edge = await Enrollee.EnrollEdgeAsync(_portal, await Enrollee.CreateProvisioningKeyAsync(_admin, ProvisioningKinds.Edge));

        // One record a minute from 09:00, named by minute: "m0" at 09:00 … "m7" at 09:07 ({2} in a query is 09:02).
        TransactionLogRecord At(int minute, string host, string action = TransactionActions.Allow) =>
            EdgeLogs.Record(_edge, Start.AddMinutes(minute), host, action) with { ReferenceId = $"m{minute}" };
        await EdgeLogs.PostAcceptedAsync(_portal, _edge,
            At(0, "www.example.com") with { UserId = AnaId.ToString(), UserEmail = "ana@example.test" },
            At(1, "example.com") with { UserEmail = "bob@example.test" },
            At(2, "api.example.com", TransactionActions.Block) with { UserId = AnaId.ToString(), UserEmail = "ana@example.test" },
            At(3, "notexample.com"),
            At(4, "deep.api.example.com", TransactionActions.Block) with { UserEmail = "bob@example.test" },
            At(5, "other.test", TransactionActions.Denied) with { UserEmail = "Mallory@Example.test" },
            At(6, "10.1.2.3", TransactionActions.Error) with { Sni = "Secret.Example.com" }, // a CONNECT to an address, its TLS name given
            At(7, "www.example.com", TransactionActions.CautionContinued) with { UserId = AnaId.ToString(), UserEmail = "ana@example.test" });
    }

    public async Task DisposeAsync()
    {
        _edge.Dispose();
        _admin.Dispose();
        await _portal.DisposeAsync();
    }

    [Fact]
    public async Task Pages_run_newest_first_without_gaps_or_repeats()
    {
        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await PageAsync($"logs?limit=3{(cursor is null ? "" : $"&cursor={cursor}")}");
            Assert.True(page.Items.Count <= 3);
            seen.AddRange(page.Items.Select(e => e.Record.ReferenceId!));
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(["m7", "m6", "m5", "m4", "m3", "m2", "m1", "m0"], seen);
    }

    [Theory]
    [InlineData("from={2}", "m7 m6 m5 m4 m3 m2")]
    [InlineData("to={2}", "m1 m0")]
    [InlineData("from={2}&to={4}", "m3 m2")]
    [InlineData("user=ana@example.test", "m7 m2 m0")]
    [InlineData("user=ANA@Example.Test", "m7 m2 m0")]
    [InlineData("user=mallory@example.test", "m5")]
    [InlineData("user=0190f0a0-0000-7000-8000-00000000a0a0", "m7 m2 m0")]
    [InlineData("action=block", "m4 m2")]
    [InlineData("action=caution-continued", "m7")]
    [InlineData("host=example.com", "m1")]
    [InlineData("host=WWW.Example.COM", "m7 m0")]
    [InlineData("host=.example.com", "m7 m6 m4 m2 m0")]
    [InlineData("host=.api.example.com", "m4")]
    [InlineData("host=*.example.com", "m7 m6 m4 m2 m0")] // as policy writes it; matched nothing, as a host named "*.example.com"
    [InlineData("host=10.1.2.3", "m6")]
    [InlineData("host=secret.example.com", "m6")] // the TLS name of a CONNECT to an address: SNI-blocked flows were not found by name
    [InlineData("user=bob@example.test&action=block&host=.example.com", "m4")]
    [InlineData("user=nobody@example.test", "")]
    public async Task Filters_narrow_the_listing(string query, string expected)
    {
        var items = await AllAsync($"logs?{Times(query)}");
        Assert.Equal(expected, string.Join(' ', items.Select(e => e.Record.ReferenceId)));
    }

    [Theory]
    [InlineData("[2001:DB8:0::1]")]
    [InlineData("2001:0db8::0001")]
    public async Task An_address_is_kept_in_its_canonical_spelling_so_the_filter_finds_it(string written)
    {
        // The forward proxy records an IPv6 host as the client wrote it; the host filter reads an address canonically.
        await EdgeLogs.PostAcceptedAsync(_portal, _edge, EdgeLogs.Record(_edge, Start.AddMinutes(30), written, TransactionActions.Allow) with { ReferenceId = "v6" });

        var items = await AllAsync("logs?host=2001:db8::1");

        var item = Assert.Single(items);
        Assert.Equal(("v6", "2001:db8::1"), (item.Record.ReferenceId, item.Record.Host));
    }

    [Theory]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2026-13-45", "to")]
    [InlineData("from={3}&to={3}", "to")]
    [InlineData("from={3}&to={1}", "to")]
    [InlineData("action=drop", "action")]
    [InlineData("host=bad%20host", "host")]
    [InlineData("host=.", "host")]
    [InlineData("host=www.*.com", "host")]
    [InlineData("host=*example.com", "host")]
    [InlineData("host=", "host")]
    [InlineData("host=*.0.0.1", "host")]
    [InlineData("host=127.0.0.1:18001", "host")]
    [InlineData("host=*.", "host")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=501", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("cursor=%25%25%25", "cursor")]
    public async Task Bad_parameters_are_refused_naming_the_parameter(string query, string field)
    {
        var response = await _admin.GetAsync($"logs?{Times(query)}");
        Assert.Equal(field, (await Problem.ReadAsync(response, HttpStatusCode.BadRequest)).Field);
    }

    [Theory]
    [InlineData("host=*.0.0.1", "host '*.0.0.1' ends in a number, as addresses do, not in a domain name")]
    [InlineData("host=10.1.2.3:443", "host '10.1.2.3:443' has a port; a host is written without one (10.1.2.3)")]
    [InlineData("host=", "host is empty; give a host name (www.example.com)")]
    [InlineData("host=*.", "host '*.' names no domain after the '*.'")]
    public async Task A_bad_host_is_refused_in_words_that_quote_it(string query, string words)
    {
        var response = await _admin.GetAsync($"logs?{query}");
        Assert.StartsWith(words, (await Problem.ReadAsync(response, HttpStatusCode.BadRequest)).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Auditors_read_logs_like_the_audit_log()
    {
        using var auditor = await TestAdmins.SignInAuditorAsync(_portal, _admin);
        Assert.Equal(HttpStatusCode.OK, (await auditor.GetAsync("audit")).StatusCode);
        var page = (await auditor.GetFromJsonAsync<Page<TransactionLogEntryDto>>("logs?action=block", PortalServer.Json))!;
        Assert.Equal(["m4", "m2"], page.Items.Select(e => e.Record.ReferenceId!));

        using var anonymous = _portal.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("logs")).StatusCode);
    }

    [Fact]
    public async Task Times_with_an_offset_or_without_a_zone_are_the_same_instants()
    {
        var withOffset = Start.AddMinutes(2).ToOffset(TimeSpan.FromHours(2)).ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture);
        var noZone = Start.AddMinutes(4).ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);
        var items = await AllAsync($"logs?from={Uri.EscapeDataString(withOffset)}&to={noZone}");
        Assert.Equal(["m3", "m2"], items.Select(e => e.Record.ReferenceId!));
        Assert.Equal(Start.AddMinutes(3), items[0].Record.Time);
    }

    [Fact]
    public async Task From_and_to_hold_inside_a_millisecond()
    {
        // Ids carry a record's time to the millisecond and the listing bounds them by the range; the range itself is
        // to the microsecond (PostgreSQL keeps no finer): a record 1 µs before from, in from's millisecond, is out.
        var from = Start.AddMinutes(20).AddTicks(5_000);
        var to = from.AddMilliseconds(10);
        TransactionLogRecord At(DateTimeOffset time, string name) => EdgeLogs.Record(_edge, time, "edge.test", TransactionActions.Allow) with { ReferenceId = name };
        await EdgeLogs.PostAcceptedAsync(_portal, _edge,
            At(from.AddTicks(-10), "before"), At(from, "first"), At(to.AddTicks(-10), "last"), At(to, "after"), At(to.AddTicks(-5_000), "in-to's-ms"));

        var items = await AllAsync($"logs?from={Iso(from)}&to={Iso(to)}");

        // Newest first; the order of records within one millisecond is not defined.
        Assert.Equal(["first", "in-to's-ms", "last"], items.Select(e => e.Record.ReferenceId!).Order(StringComparer.Ordinal));
        Assert.Equal("first", items[^1].Record.ReferenceId);
    }

    private static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.ToString("O", CultureInfo.InvariantCulture));

    /// <summary>Replaces <c>{n}</c> with the ISO 8601 time of minute n.</summary>
    private static string Times(string query) =>
        System.Text.RegularExpressions.Regex.Replace(query, @"\{(\d+)\}", m => Uri.EscapeDataString(Start.AddMinutes(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToString("O", CultureInfo.InvariantCulture)));

    private async Task<Page<TransactionLogEntryDto>> PageAsync(string path)
    {
        var response = await _admin.GetAsync(path);
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<Page<TransactionLogEntryDto>>(PortalServer.Json))!;
    }

    private async Task<List<TransactionLogEntryDto>> AllAsync(string path)
    {
        var items = new List<TransactionLogEntryDto>();
        string? cursor = null;
        do
        {
            var page = await PageAsync(cursor is null ? path : $"{path}&cursor={cursor}");
            items.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return items;
    }
}
