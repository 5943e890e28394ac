using System.Net;
using System.Net.Http.Json;
using System.Text;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Tests.Enrollment;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Testing;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Logs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Portal.Tests.Logs;

public sealed class TransactionLogIngestTests : IAsyncLifetime
{
    private readonly RecordedLogs _logs = new();
    private PortalServer _portal = null!;
    private HttpClient _admin = null!;
    private Enrollee _edge = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalServer.StartWithServicesAsync(services => services.AddSingleton<ILoggerProvider>(_logs));
        _admin = await _portal.SignInAsync();
        _edge = await Enrollee.EnrollEdgeAsync(_portal, await Enrollee.CreateProvisioningKeyAsync(_admin, ProvisioningKinds.Edge));
    }

    public async Task DisposeAsync()
    {
        _edge.Dispose();
        _admin.Dispose();
        await _portal.DisposeAsync();
    }

    [Fact]
    public async Task Edge_batch_is_stored_under_the_certificates_tenant_and_edge_and_listed_as_sent()
    {
        var now = DateTimeOffset.UtcNow;
        var plain = EdgeLogs.HttpRecord(_edge, now.AddSeconds(-2)) with { Host = "WWW.Example.com.", UserEmail = "Ana@Example.test" };
        var tunnel = EdgeLogs.BlockedTunnelRecord(_edge, now.AddSeconds(-1));

        await EdgeLogs.PostAcceptedAsync(_portal, _edge, plain, tunnel);

        var page = (await _admin.GetFromJsonAsync<Page<TransactionLogEntryDto>>("logs", PortalServer.Json))!;
        Assert.Equal([tunnel.Host, "www.example.com"], page.Items.Select(e => e.Record.Host));
        // As sent, but for the host and email, which are stored lower case (the host without its final dot).
        Assert.Equal(Stored(plain with { Host = "www.example.com", UserEmail = "ana@example.test" }), Stored(page.Items[1].Record));
        Assert.Equal(Stored(tunnel), Stored(page.Items[0].Record));
    }

    /// <summary>Times are kept to the millisecond at least (PostgreSQL keeps microseconds, SQLite's binary form 100 µs).</summary>
    private static TransactionLogRecord Stored(TransactionLogRecord record) =>
        record with { Time = new DateTimeOffset(record.Time.UtcTicks - (record.Time.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero) };

    [Fact]
    public async Task Device_and_connector_certificates_and_admins_cannot_send_logs()
    {
        using var device = await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin));
        var group = (await (await _admin.PostAsJsonAsync("connector-groups", new NamedObjectRequest("dc"), PortalServer.Json)).Content.ReadFromJsonAsync<ConnectorGroupDto>(PortalServer.Json))!;
        using var connector = await Enrollee.EnrollConnectorAsync(_portal, await Enrollee.CreateProvisioningKeyAsync(_admin, ProvisioningKinds.Connector, group.Id));
        // Their own tenant and id in the records: only the kind of certificate is wrong.
        foreach (var sender in new[] { device, connector })
        {
            var record = EdgeLogs.Record(sender, DateTimeOffset.UtcNow);
            var refused = await EdgeLogs.PostAsync(_portal, sender, record);
            await Problem.ReadAsync(refused, HttpStatusCode.Forbidden);
        }

        var asAdmin = await _admin.PostAsJsonAsync(new Uri(_portal.BaseAddress, TransactionLogBatch.Path), new TransactionLogBatch([EdgeLogs.Record(_edge, DateTimeOffset.UtcNow)]), PortalServer.Json);
        await Problem.ReadAsync(asAdmin, HttpStatusCode.Unauthorized);
        Assert.Empty((await _admin.GetFromJsonAsync<Page<TransactionLogEntryDto>>("logs", PortalServer.Json))!.Items);
    }

    [Fact]
    public async Task A_record_naming_another_tenant_or_edge_refuses_the_whole_batch()
    {
        var (otherTenant, other, _, _) = await _portal.CreateTenantAsync("other");
        using (other)
        {
            using var otherEdge = await Enrollee.EnrollEdgeAsync(_portal, await Enrollee.CreateProvisioningKeyAsync(other, ProvisioningKinds.Edge));
            var now = DateTimeOffset.UtcNow;
            var good = EdgeLogs.Record(_edge, now);

            var forged = await EdgeLogs.PostAsync(_portal, _edge, good, good with { TenantId = otherTenant.Id.ToString() });
            Assert.Equal("records[1].tenantId", (await Problem.ReadAsync(forged, HttpStatusCode.BadRequest)).Field);

            // A record refused for a bad field of its own before it does not make the rest of that batch storable.
            var forgedAfterBad = await EdgeLogs.PostAsync(_portal, _edge, good, good with { Port = -1 }, good with { TenantId = otherTenant.Id.ToString() });
            Assert.Equal("records[2].tenantId", (await Problem.ReadAsync(forgedAfterBad, HttpStatusCode.BadRequest)).Field);

            var borrowed = await EdgeLogs.PostAsync(_portal, _edge, good with { EdgeId = otherEdge.Response.SubjectId.ToString() });
            Assert.Equal("records[0].edgeId", (await Problem.ReadAsync(borrowed, HttpStatusCode.BadRequest)).Field);

            // The other tenant's own edge sending a record that claims this tenant: refused the same way.
            var claimed = await EdgeLogs.PostAsync(_portal, otherEdge, EdgeLogs.Record(otherEdge, now) with { TenantId = _edge.Response.TenantId.ToString() });
            Assert.Equal("records[0].tenantId", (await Problem.ReadAsync(claimed, HttpStatusCode.BadRequest)).Field);

            Assert.Empty((await _admin.GetFromJsonAsync<Page<TransactionLogEntryDto>>("logs", PortalServer.Json))!.Items);
            Assert.Empty((await other.GetFromJsonAsync<Page<TransactionLogEntryDto>>("logs", PortalServer.Json))!.Items);
        }
    }

    [Fact]
    public async Task Bad_records_are_refused_alone_and_the_rest_of_their_batch_is_stored()
    {
        var now = DateTimeOffset.UtcNow;
        var records = Enumerable.Range(0, 6).Select(i => EdgeLogs.Record(_edge, now.AddMilliseconds(-i), $"host{i}.example.com")).ToArray();
        records[2] = records[2] with { Reason = "refused\u001b[2J" };
        records[4] = records[4] with { Time = now.AddDays(2) };

        var result = await PostPartlyAcceptedAsync(records);

        Assert.Equal((4, 2), (result.Accepted, result.Refused));
        Assert.Equal([(2, "records[2].reason"), (4, "records[4].time")], result.Problems!.Select(p => (p.Index, p.Field)));
        Assert.All(result.Problems!, p => Assert.StartsWith(p.Field + " ", p.Detail, StringComparison.Ordinal));
        Assert.Equal(["host0.example.com", "host1.example.com", "host3.example.com", "host5.example.com"], await StoredHostsAsync());
    }

    [Fact]
    public async Task Bad_fields_refuse_their_record_naming_it_and_the_field()
    {
        var now = DateTimeOffset.UtcNow;
        var good = EdgeLogs.Record(_edge, now);
        var cases = new (TransactionLogRecord Bad, string Field)[]
        {
            (good with { Kind = "udp" }, "kind"),
            (good with { Listener = "socks" }, "listener"),
            (good with { Action = "drop" }, "action"),
            (good with { Host = "" }, "host"),
            (good with { Host = new string('a', 254) }, "host"),
            (good with { Host = "bad host.example" }, "host"),
            (good with { Sni = new string('a', 254) }, "sni"),
            (good with { Sni = "www.example.com\u0001" }, "sni"),
            (good with { Port = 70000 }, "port"),
            (good with { Status = 42 }, "status"),
            (good with { BytesUp = -1 }, "bytesUp"),
            (good with { DurationMs = -5 }, "durationMs"),
            (good with { UserId = "ana" }, "userId"),
            (good with { DeviceId = "laptop" }, "deviceId"),
            (good with { Url = "http://www.example.com/" + new string('x', 4096) }, "url"),
            (good with { Reason = "line one\nline two" }, "reason"),
            (good with { Rule = "\u001b[2Jforged" }, "rule"),
            (good with { ClientAddress = "" }, "clientAddress"),
            (good with { Time = new DateTimeOffset(1999, 12, 31, 0, 0, 0, TimeSpan.Zero) }, "time"),
            (good with { Time = DateTimeOffset.MinValue }, "time"),
            (good with { Time = now.AddDays(2) }, "time"),
        };

        foreach (var (bad, field) in cases)
        {
            var result = await PostPartlyAcceptedAsync(good, bad);
            Assert.Equal((1, 1), (result.Accepted, result.Refused));
            Assert.Equal($"records[1].{field}", Assert.Single(result.Problems!).Field);

            // Alone, it is refused with the batch: there is nothing else to store.
            var alone = await EdgeLogs.PostAsync(_portal, _edge, bad);
            Assert.Equal($"records[0].{field}", (await Problem.ReadAsync(alone, HttpStatusCode.BadRequest)).Field);
        }

        var tooMany = await EdgeLogs.PostAsync(_portal, _edge, Enumerable.Repeat(good, TransactionLogBatch.MaxRecords + 1).ToArray());
        Assert.Equal("records", (await Problem.ReadAsync(tooMany, HttpStatusCode.BadRequest)).Field);

        using var client = _edge.CreateClient(_portal);
        var missingHost = await client.PostAsync(new Uri(_portal.BaseAddress, TransactionLogBatch.Path), new StringContent(
            $$"""{"records":[{"time":"{{now:O}}","tenantId":"{{good.TenantId}}","edgeId":"{{good.EdgeId}}","kind":"flow","listener":"proxy","action":"allow","clientAddress":"127.0.0.1:1","port":443}]}""",
            Encoding.UTF8, "application/json"));
        Assert.Equal("records[0].host", (await Problem.ReadAsync(missingHost, HttpStatusCode.BadRequest)).Field);

        // The good record of each mixed batch, and nothing else.
        Assert.Equal(cases.Length, (await StoredHostsAsync()).Count);
    }

    [Fact]
    public async Task A_batch_of_only_bad_records_is_refused_with_the_first_records_problem_and_nothing_is_stored()
    {
        var good = EdgeLogs.Record(_edge, DateTimeOffset.UtcNow);

        var response = await EdgeLogs.PostAsync(_portal, _edge, good with { Port = -1 }, null!, good with { Reason = "a\u0000b" });

        Assert.Equal("records[0].port", (await Problem.ReadAsync(response, HttpStatusCode.BadRequest)).Field);
        Assert.Empty(await StoredHostsAsync());
    }

    [Fact]
    public async Task The_answer_lists_the_first_problems_and_every_refusal_is_counted_and_logged()
    {
        var now = DateTimeOffset.UtcNow;
        // Every other record has a long bad kind, which the detail quotes: the answer must stay small all the same.
        var records = Enumerable.Range(0, 30)
            .Select(i => EdgeLogs.Record(_edge, now.AddMilliseconds(-i)) with { Kind = i % 2 == 1 ? new string('k', 5000) : TransactionKinds.Flow })
            .ToArray();

        var result = await PostPartlyAcceptedAsync(records);

        Assert.Equal((15, 15), (result.Accepted, result.Refused));
        Assert.Equal(Enumerable.Range(0, TransactionLogBatchResult.MaxProblems).Select(i => $"records[{(2 * i) + 1}].kind"), result.Problems!.Select(p => p.Field));
        Assert.All(result.Problems!, p => Assert.Equal(TransactionLogRecordProblem.MaxDetailLength, p.Detail.Length));

        using var scrape = _portal.CreateClient();
        var metrics = await scrape.GetStringAsync(new Uri(_portal.BaseAddress, "/metrics"));
        Assert.Contains("gatehouse_portal_logs_records_refused_total 15", metrics, StringComparison.Ordinal);
        Assert.Contains("gatehouse_portal_logs_records_stored_total 15", metrics, StringComparison.Ordinal);

        var warning = Assert.Single(_logs.Entries, e => e.Id == 5002);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains($"Edge {_edge.Response.SubjectId} sent 15 of 30 ", warning.Message, StringComparison.Ordinal);
        Assert.Contains("The first: records[1].kind: records[1].kind must be one of flow, http; got 'kkk", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_batch_is_refused_naming_records()
    {
        // It was answered 202 with nothing accepted, which reads as success.
        var response = await EdgeLogs.PostAsync(_portal, _edge);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("records", problem.Field);
        Assert.Contains("empty", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_batch_labelled_with_a_charset_other_than_utf8_is_refused_and_nothing_is_stored()
    {
        // Its charset made the framework's JSON reader throw: a 500, which an edge retries for ever.
        var json = System.Text.Json.JsonSerializer.Serialize(new TransactionLogBatch([EdgeLogs.Record(_edge, DateTimeOffset.UtcNow)]), PortalServer.Json);
        using var client = _edge.CreateClient(_portal);
        foreach (var (contentType, status) in new[] { ("application/json; charset=bogus", HttpStatusCode.UnsupportedMediaType), ("application/json; charset=\"utf-8\"", HttpStatusCode.Accepted) })
        {
            var content = new StringContent(json);
            content.Headers.Remove("Content-Type");
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            var response = await client.PostAsync(new Uri(_portal.BaseAddress, TransactionLogBatch.Path), content);
            Assert.True(status == response.StatusCode, $"{contentType}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        Assert.Single(await StoredHostsAsync());
    }

    private async Task<TransactionLogBatchResult> PostPartlyAcceptedAsync(params TransactionLogRecord[] records)
    {
        var response = await EdgeLogs.PostAsync(_portal, _edge, records);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<TransactionLogBatchResult>(PortalServer.Json))!;
    }

    /// <summary>The hosts of the stored records, newest first.</summary>
    private async Task<List<string>> StoredHostsAsync() =>
        [.. (await _admin.GetFromJsonAsync<Page<TransactionLogEntryDto>>("logs?limit=500", PortalServer.Json))!.Items.Select(e => e.Record.Host)];

    [Fact]
    public async Task A_request_refused_before_it_named_a_destination_is_stored_with_its_batch()
    {
        // The edge records a request head it could not read (and a target that does not parse) as denied, with no host.
        var now = DateTimeOffset.UtcNow;
        var unreadable = EdgeLogs.Record(_edge, now) with { Host = string.Empty, Port = 0, Action = TransactionActions.Denied, Status = 400, Reason = "the request is not valid HTTP/1.1: a header line without a colon" };
        var good = EdgeLogs.Record(_edge, now.AddMilliseconds(-1));

        await EdgeLogs.PostAcceptedAsync(_portal, _edge, good, unreadable);

        var items = (await _admin.GetFromJsonAsync<Page<TransactionLogEntryDto>>("logs", PortalServer.Json))!.Items;
        Assert.Equal(2, items.Count);
        var stored = Assert.Single(items, i => i.Record.Status == 400).Record;
        Assert.Equal((string.Empty, 0, TransactionActions.Denied), (stored.Host, stored.Port, stored.Action));
    }

    [Fact]
    public async Task A_full_batch_larger_than_the_usual_body_limit_is_stored_in_one_go()
    {
        var now = DateTimeOffset.UtcNow;
        var records = Enumerable.Range(0, TransactionLogBatch.MaxRecords)
            .Select(i => EdgeLogs.Record(_edge, now.AddMilliseconds(-i), $"host{i}.example.com") with { Url = $"http://host{i}.example.com/{new string('p', 1500)}" })
            .ToArray();
        var size = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new TransactionLogBatch(records), PortalServer.Json).Length;
        Assert.True(size > 1024 * 1024, $"The batch is only {size} bytes; it must exceed the API's usual 1 MiB limit.");

        await EdgeLogs.PostAcceptedAsync(_portal, _edge, records);

        var items = new List<TransactionLogEntryDto>();
        string? cursor = null;
        do
        {
            var page = (await _admin.GetFromJsonAsync<Page<TransactionLogEntryDto>>($"logs?limit=500{(cursor is null ? "" : $"&cursor={cursor}")}", PortalServer.Json))!;
            items.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        Assert.Equal(records.Select(r => r.Host), items.Select(e => e.Record.Host));
    }

    [Fact]
    public async Task Storing_logs_does_not_republish_the_config_bundles()
    {
        // Let the edge's own enrollment be published first.
        await _portal.Services.GetRequiredService<ConfigPublisher>().SettledAsync(_edge.Response.TenantId, TimeSpan.FromSeconds(10), CancellationToken.None);
        using var edgeClient = _edge.CreateClient(_portal);
        var first = await edgeClient.GetAsync("config/edge");
        var etag = first.Headers.ETag!.Tag;

        await EdgeLogs.PostAcceptedAsync(_portal, _edge, EdgeLogs.Record(_edge, DateTimeOffset.UtcNow));

        // A change would be published after the publisher's 100 ms debounce; a long poll of 2 s would see it.
        using var poll = new HttpRequestMessage(HttpMethod.Get, "config/edge?wait=2");
        poll.Headers.TryAddWithoutValidation("If-None-Match", etag);
        var answer = await edgeClient.SendAsync(poll);
        Assert.Equal(HttpStatusCode.NotModified, answer.StatusCode);
    }
}
