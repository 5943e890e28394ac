using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gatehouse.Edge.TransactionLogs;
using Gatehouse.Observability;
using Gatehouse.Testing;
using Xunit.Abstractions;

namespace Gatehouse.Edge.Tests.TransactionLogs;

public sealed class TransactionLogTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("gatehouse-edge-logs-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_million_writes_against_a_siem_that_never_reads_return_quickly_and_every_record_is_accounted_for()
    {
        using var siem = SyslogReceiver.Start(read: false);
        const int writers = 4;
        const int perWriter = 250_000;
        var log = new TransactionLog(new TransactionLogOptions
        {
            ShipToPortal = false,
            SyslogEndpoint = siem.Endpoint,
            ShutdownTimeout = TimeSpan.FromMilliseconds(500),
        });
        var record = TestRecords.Flow(1);

        var clock = Stopwatch.StartNew();
        var accepted = new int[writers];
        var threads = Enumerable.Range(0, writers).Select(w => new Thread(() =>
        {
            for (var i = 0; i < perWriter; i++)
            {
                if (log.Write(record))
                {
                    accepted[w]++;
                }
            }
        })).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        foreach (var thread in threads)
        {
            Assert.True(thread.Join(TestTimeouts.Default), "a writer is stuck");
        }

        var elapsed = clock.Elapsed;
        var before = log.Status[0];
        clock.Restart();
        await log.DisposeAsync().AsTask().DefaultTimeout();
        var disposing = clock.Elapsed;

        var status = log.Status[0];
        output.WriteLine($"1,000,000 writes from {writers} threads in {elapsed.TotalMilliseconds:F0} ms ({writers * perWriter / elapsed.TotalSeconds:N0}/s); at the end of writing {before}; dispose {disposing.TotalMilliseconds:F0} ms; after {status}");
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"writing took {elapsed}");
        Assert.True(disposing < TimeSpan.FromSeconds(3), $"dispose took {disposing}");
        Assert.Equal(writers * perWriter, status.Written + status.Dropped);
        Assert.Equal(accepted.Sum(), status.Written + status.DroppedShutdown);
        Assert.True(status.DroppedQueueFull > 0, "the queue filled");
        Assert.Equal(0, status.QueueDepth);
    }

    [Fact]
    public async Task A_stalled_siem_drops_its_own_records_only_and_the_file_gets_every_one()
    {
        using var siem = SyslogReceiver.Start(read: false);
        var directory = Path.Combine(_root, "logs");
        const int records = 200_000;
        await using (var log = new TransactionLog(new TransactionLogOptions
        {
            Directory = directory,
            ShipToPortal = false,
            SyslogEndpoint = siem.Endpoint,
            QueueCapacity = 4096,
            FlushInterval = TimeSpan.FromMilliseconds(10),
            ShutdownTimeout = TimeSpan.FromMilliseconds(500),
        }))
        {
            Assert.Equal(["file", "syslog"], log.Sinks);
            var record = TestRecords.Flow(1);
            for (var i = 0; i < records; i++)
            {
                // Paced to what the disk takes, never to what the SIEM takes.
                while (log.Status[0].QueueDepth > 3000)
                {
                    Thread.SpinWait(100);
                }

                log.Write(record);
            }

            await Eventually.TrueAsync(() => log.Status[0].Written == records, () => $"{log.Status[0]}");
            var (file, syslog) = (log.Status[0], log.Status[1]);
            output.WriteLine($"{file}\n{syslog}");
            Assert.Equal(0, file.Dropped);
            Assert.True(syslog.DroppedQueueFull > 0, $"the SIEM's queue filled: {syslog}");
        }

        Assert.Equal(records, Directory.GetFiles(directory, "transactions*.jsonl").Sum(file => File.ReadLines(file).Count()));
    }

    [Fact]
    public async Task Every_series_shows_from_the_start_at_zero_and_then_counts()
    {
        using var meter = new Meter("Gatehouse.Edge.Tests.TransactionLogs");
        using var exporter = new PrometheusExporter(m => ReferenceEquals(m, meter));

        // Nothing listens on the SIEM's port: the syslog sink holds its first batch of one and retries it.
        var log = new TransactionLog(
            new TransactionLogOptions
            {
                Directory = Path.Combine(_root, "logs"),
                ShipToPortal = false,
                SyslogEndpoint = $"127.0.0.1:{FreePort.GetLoopbackTcpPort()}",
                QueueCapacity = 2,
                BatchSize = 1,
                MinRetryDelay = TimeSpan.FromMinutes(1),
                MaxRetryDelay = TimeSpan.FromMinutes(1),
                ShutdownTimeout = TimeSpan.FromMilliseconds(100),
            },
            meter: meter);

        var text = exporter.Render();
        foreach (var sink in (string[])["file", "syslog"])
        {
            Assert.Contains($"gatehouse_edge_log_records_written_total{{sink=\"{sink}\"}} 0\n", text, StringComparison.Ordinal);
            Assert.Contains($"gatehouse_edge_log_queue_depth{{sink=\"{sink}\"}} 0\n", text, StringComparison.Ordinal);
            foreach (var reason in (string[])["queue_full", "rejected", "write_error", "shutdown"])
            {
                Assert.Contains($"gatehouse_edge_log_records_dropped_total{{reason=\"{reason}\",sink=\"{sink}\"}} 0\n", text, StringComparison.Ordinal);
            }
        }

        Assert.Contains("# TYPE gatehouse_edge_log_records_dropped_total counter", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE gatehouse_edge_log_queue_depth gauge", text, StringComparison.Ordinal);

        log.Write(TestRecords.Flow(0));
        await Eventually.TrueAsync(() => log.Status[1].QueueDepth == 0, () => $"{log.Status[1]}");
        foreach (var record in TestRecords.Flows(4))
        {
            log.Write(record);
        }

        text = exporter.Render();
        Assert.Contains("gatehouse_edge_log_queue_depth{sink=\"syslog\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("gatehouse_edge_log_records_dropped_total{reason=\"queue_full\",sink=\"syslog\"} 2\n", text, StringComparison.Ordinal);

        await log.DisposeAsync();
        text = exporter.Render();
        Assert.Contains("gatehouse_edge_log_records_dropped_total{reason=\"shutdown\",sink=\"syslog\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("gatehouse_edge_log_queue_depth{sink=\"syslog\"} 0\n", text, StringComparison.Ordinal);
        var file = log.Status[0];
        Assert.Equal(5, file.Written + file.Dropped);
        Assert.Contains($"gatehouse_edge_log_records_written_total{{sink=\"file\"}} {file.Written}\n", text, StringComparison.Ordinal);
        Assert.Contains($"gatehouse_edge_log_records_dropped_total{{reason=\"queue_full\",sink=\"file\"}} {file.DroppedQueueFull}\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_never_throws_and_says_false_for_what_it_could_not_take()
    {
        var log = new TransactionLog(new TransactionLogOptions { ShipToPortal = false, Directory = Path.Combine(_root, "logs"), QueueCapacity = 2, FlushInterval = TimeSpan.FromMinutes(1) });

        Assert.False(log.Write(null!));
        Assert.True(log.Write(TestRecords.Flow(1)));
        Assert.True(log.Write(TestRecords.Flow(2)));
        Assert.False(log.Write(TestRecords.Flow(3)), "the queue of two is full");
        await log.DisposeAsync();
        Assert.False(log.Write(TestRecords.Flow(4)));
        await log.DisposeAsync();

        Assert.Equal(new TransactionLogSinkStatus("file", 0, 2, 2, 1, 0, 0, 0), log.Status[0]);
    }

    [Fact]
    public async Task A_full_queue_smaller_than_a_batch_is_written_without_waiting_for_the_flush_interval()
    {
        await using var log = new TransactionLog(new TransactionLogOptions { ShipToPortal = false, Directory = Path.Combine(_root, "logs"), QueueCapacity = 4, FlushInterval = TimeSpan.FromMinutes(10) });

        foreach (var record in TestRecords.Flows(4))
        {
            Assert.True(log.Write(record));
        }

        await Eventually.TrueAsync(() => log.Status[0].Written == 4, () => $"{log.Status[0]}");
    }

    [Fact]
    public async Task With_no_sink_configured_writes_go_nowhere_and_succeed()
    {
        await using var log = new TransactionLog(new TransactionLogOptions { ShipToPortal = false });

        Assert.Empty(log.Sinks);
        Assert.True(log.Write(TestRecords.Flow(1)));
    }
}
