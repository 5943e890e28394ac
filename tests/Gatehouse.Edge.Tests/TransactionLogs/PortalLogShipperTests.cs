using Gatehouse.Edge.TransactionLogs;
using Gatehouse.Testing;
using Gatehouse.Wire.Logs;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Edge.Tests.TransactionLogs;

public sealed class PortalLogShipperTests : IAsyncLifetime
{
    private PortalStub _portal = null!;

    private static TransactionLogOptions Options => new()
    {
        FlushInterval = TimeSpan.FromMilliseconds(20),
        MinRetryDelay = TimeSpan.FromMilliseconds(20),
        MaxRetryDelay = TimeSpan.FromMilliseconds(100),
    };

    public async Task InitializeAsync() => _portal = await PortalStub.StartAsync();

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Fact]
    public async Task Records_are_posted_as_json_batches_of_at_most_the_batch_size()
    {
        var records = TestRecords.Flows(2500).ToArray();
        await using var log = new TransactionLog(Options with { FlushInterval = TimeSpan.FromMinutes(1) }, _portal.CreateClient());
        Assert.Equal(["portal"], log.Sinks);
        foreach (var record in records)
        {
            Assert.True(log.Write(record));
        }

        // Full batches go at once, without waiting for the flush interval.
        await Eventually.TrueAsync(() => _portal.Accepted.Count >= 2000, () => $"{_portal.Accepted.Count} records posted");
        await log.DisposeAsync();

        Assert.Equal(records, _portal.Accepted);
        Assert.All(_portal.Posts, post => Assert.InRange(post.Batch.Records.Count, 1, TransactionLogBatch.MaxRecords));
        Assert.All(_portal.Posts, post => Assert.Equal("application/json; charset=utf-8", post.ContentType));
        Assert.Contains("\"tenantId\":", System.Text.Encoding.UTF8.GetString(_portal.Posts[0].Body), StringComparison.Ordinal);
        Assert.Equal(new TransactionLogSinkStatus("portal", 0, 65_536, 2500, 0, 0, 0, 0), log.Status[0]);
    }

    [Fact]
    public async Task A_busy_or_failing_portal_gets_the_same_batch_again_until_it_takes_it()
    {
        _portal.Then(429, "slow down", retryAfter: "0");
        _portal.Then(503, "the database is down");
        _portal.Then(500);
        var logger = new ListLogger<TransactionLog>();
        await using var log = new TransactionLog(Options, _portal.CreateClient(), logger: logger);
        foreach (var record in TestRecords.Flows(5))
        {
            log.Write(record);
        }

        await Eventually.TrueAsync(() => log.Status[0].Written == 5, () => $"{log.Status[0]}");

        var posts = _portal.Posts;
        Assert.Equal([429, 503, 500, 202], posts.Select(p => p.Status));
        Assert.All(posts, post => Assert.Equal(posts[0].Body, post.Body));
        Assert.Equal(0, log.Status[0].Dropped);

        // One warning for the streak, then debug until it works again.
        Assert.Single(logger.Entries, e => e.EventId == 1307 && e.Level == LogLevel.Warning && e.Message.Contains("429: slow down", StringComparison.Ordinal));
        Assert.Equal(2, logger.Entries.Count(e => e.EventId == 1308));
        Assert.Single(logger.Entries, e => e.EventId == 1309);
    }

    [Fact]
    public async Task A_refused_batch_is_dropped_counted_and_logged_with_the_portals_reason_and_the_next_one_goes_through()
    {
        _portal.Then(400, "records[2].host: must be at most 255 characters.");
        var logger = new ListLogger<TransactionLog>();
        await using var log = new TransactionLog(Options, _portal.CreateClient(), logger: logger);
        foreach (var record in TestRecords.Flows(3))
        {
            log.Write(record);
        }

        await Eventually.TrueAsync(() => log.Status[0].DroppedRejected == 3, () => $"{log.Status[0]}");
        log.Write(TestRecords.Flow(7));
        await Eventually.TrueAsync(() => log.Status[0].Written == 1, () => $"{log.Status[0]}");

        Assert.Equal([400, 202], _portal.Posts.Select(p => p.Status));
        Assert.Equal([TestRecords.Flow(7)], _portal.Accepted);
        var refusal = Assert.Single(logger.Entries, e => e.EventId == 1310);
        Assert.Contains("(400): records[2].host: must be at most 255 characters.", refusal.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("alice@example.com", string.Join('\n', logger.Entries.Select(e => e.Message)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Records_the_portal_did_not_accept_count_as_rejected()
    {
        _portal.Then(202, accepted: 1);
        await using var log = new TransactionLog(Options with { FlushInterval = TimeSpan.FromMinutes(1) }, _portal.CreateClient());
        foreach (var record in TestRecords.Flows(3))
        {
            log.Write(record);
        }

        await log.DisposeAsync();

        Assert.Equal(new TransactionLogSinkStatus("portal", 0, 65_536, 1, 0, 2, 0, 0), log.Status[0]);
    }

    [Fact]
    public async Task Records_the_portal_refused_one_by_one_are_logged_with_its_problems_and_counted_as_rejected()
    {
        // The portal stored the first record and refused the other two, each for a field of its own.
        _portal.Then(202, accepted: 1, problems:
        [
            new(1, "records[1].reason", "records[1].reason must not contain control characters."),
            new(2, "records[2].time", "records[2].time 2031-01-01T00:00:00.0000000+00:00 is before 2000 or more than 24 hours ahead of the portal's clock."),
        ]);
        var logger = new ListLogger<TransactionLog>();
        await using var log = new TransactionLog(Options with { FlushInterval = TimeSpan.FromMinutes(1) }, _portal.CreateClient(), logger: logger);
        foreach (var record in TestRecords.Flows(3))
        {
            log.Write(record);
        }

        await log.DisposeAsync();

        Assert.Equal(new TransactionLogSinkStatus("portal", 0, 65_536, 1, 0, 2, 0, 0), log.Status[0]);
        var refusal = Assert.Single(logger.Entries, e => e.EventId == 1318);
        Assert.Equal(LogLevel.Warning, refusal.Level);
        Assert.Contains("refused 2 of a batch of 3", refusal.Message, StringComparison.Ordinal);
        Assert.EndsWith(
            ": records[1].reason must not contain control characters. records[2].time 2031-01-01T00:00:00.0000000+00:00 is before 2000 or more than 24 hours ahead of the portal's clock.",
            refusal.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task Of_many_refused_records_the_first_problems_are_logged_and_the_rest_counted()
    {
        var problems = Enumerable.Range(0, TransactionLogBatchResult.MaxProblems)
            .Select(i => new TransactionLogRecordProblem(i, $"records[{i}].port", $"records[{i}].port must be between 0 and 65535."))
            .ToList();
        _portal.Then(202, accepted: 8, problems: problems);
        var logger = new ListLogger<TransactionLog>();
        await using var log = new TransactionLog(Options with { FlushInterval = TimeSpan.FromMinutes(1) }, _portal.CreateClient(), logger: logger);
        foreach (var record in TestRecords.Flows(20))
        {
            log.Write(record);
        }

        await log.DisposeAsync();

        Assert.Equal(12, log.Status[0].DroppedRejected);
        var refusal = Assert.Single(logger.Entries, e => e.EventId == 1318).Message;
        Assert.EndsWith(": records[0].port must be between 0 and 65535. records[1].port must be between 0 and 65535. records[2].port must be between 0 and 65535. And 9 more.", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dispose_ships_what_is_queued_without_waiting_for_the_flush_interval()
    {
        var log = new TransactionLog(Options with { FlushInterval = TimeSpan.FromMinutes(10) }, _portal.CreateClient());
        foreach (var record in TestRecords.Flows(10))
        {
            log.Write(record);
        }

        var started = DateTime.UtcNow;
        await log.DisposeAsync().AsTask().DefaultTimeout();

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), $"dispose took {DateTime.UtcNow - started}");
        Assert.Equal(TestRecords.Flows(10), _portal.Accepted);
        Assert.False(log.Write(TestRecords.Flow(11)), "a stopped log takes nothing");
    }

    [Fact]
    public async Task With_the_portal_down_dispose_gives_up_after_the_shutdown_timeout_and_counts_the_records_it_could_not_ship()
    {
        var down = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{FreePort.GetLoopbackTcpPort()}") };
        var log = new TransactionLog(Options with { ShutdownTimeout = TimeSpan.FromMilliseconds(300) }, down);
        foreach (var record in TestRecords.Flows(3))
        {
            log.Write(record);
        }

        await Task.Delay(100);
        log.Write(TestRecords.Flow(3));
        var started = DateTime.UtcNow;
        await log.DisposeAsync().AsTask().DefaultTimeout();

        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(3));
        Assert.Equal(new TransactionLogSinkStatus("portal", 0, 65_536, 0, 0, 0, 0, 4), log.Status[0]);
    }

    [Fact]
    public async Task A_renewed_client_is_used_from_the_next_post_on()
    {
        await using var other = await PortalStub.StartAsync();
        await using var log = new TransactionLog(Options, _portal.CreateClient());
        log.Write(TestRecords.Flow(1));
        await Eventually.TrueAsync(() => log.Status[0].Written == 1, () => $"{log.Status[0]}");

        log.UsePortalClient(other.CreateClient());
        log.Write(TestRecords.Flow(2));
        await Eventually.TrueAsync(() => log.Status[0].Written == 2, () => $"{log.Status[0]}");

        Assert.Equal([TestRecords.Flow(1)], _portal.Accepted);
        Assert.Equal([TestRecords.Flow(2)], other.Accepted);
    }

    [Fact]
    public void Shipping_to_the_portal_without_a_client_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new TransactionLog(new TransactionLogOptions()));
        Assert.Equal("portalClient", e.ParamName);
    }
}
