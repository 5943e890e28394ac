using System.Text.Json;
using Gatehouse.Edge.TransactionLogs;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Edge.Tests.TransactionLogs;

public sealed class JsonLinesFileSinkTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("gatehouse-edge-logs-").FullName;

    private string LogDirectory => Path.Combine(_root, "logs");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private TransactionLogOptions Options => new()
    {
        Directory = LogDirectory,
        ShipToPortal = false,
        FlushInterval = TimeSpan.FromMilliseconds(20),
    };

    [Fact]
    public async Task Records_land_as_one_camel_case_json_object_per_line_without_nulls()
    {
        await using (var log = new TransactionLog(Options))
        {
            Assert.Equal(["file"], log.Sinks);
            foreach (var record in TestRecords.Flows(10))
            {
                Assert.True(log.Write(record));
            }
        }

        var lines = await File.ReadAllLinesAsync(Path.Combine(LogDirectory, "transactions.jsonl"));
        Assert.Equal(10, lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            using var json = JsonDocument.Parse(lines[i]);
            var root = json.RootElement;
            Assert.Equal($"site{i}.example", root.GetProperty("host").GetString());
            Assert.Equal("alice@example.com", root.GetProperty("userEmail").GetString());
            Assert.Equal(TestRecords.Start.AddMilliseconds(i), root.GetProperty("time").GetDateTimeOffset());
            Assert.Equal(2L * i, root.GetProperty("bytesDown").GetInt64());
            Assert.False(root.TryGetProperty("url", out _), "null properties are left out");
            Assert.False(root.TryGetProperty("Host", out _), "names are camelCase");

            // What the file holds reads back as the record that was written.
            Assert.Equal(TestRecords.Flow(i), JsonSerializer.Deserialize<TransactionLogRecord>(lines[i], JsonSerializerOptions.Web));
        }
    }

    [Fact]
    public async Task The_file_rotates_before_it_passes_the_limit_and_only_the_newest_rotations_stay()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero));
        const int records = 120;
        var options = Options with { MaxFileBytes = 4096, MaxFiles = 3, BatchSize = 7, FlushInterval = TimeSpan.FromMinutes(1) };

        // An older rotation from a previous run counts towards the limit; another file in the directory is left alone.
        Directory.CreateDirectory(LogDirectory);
        await File.WriteAllTextAsync(Path.Combine(LogDirectory, "transactions-20261121T090000.000Z.jsonl"), "{}\n");
        await File.WriteAllTextAsync(Path.Combine(LogDirectory, "notes.txt"), "keep me");

        await using (var log = new TransactionLog(options, time: clock))
        {
            foreach (var record in TestRecords.Flows(records))
            {
                log.Write(record);
            }
        }

        var rotated = Directory.GetFiles(LogDirectory, "transactions-*.jsonl").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(3, rotated.Length);
        Assert.True(File.Exists(Path.Combine(LogDirectory, "notes.txt")));

        // The clock stood still: names go up by a millisecond from it, so they sort by age; the old one is gone.
        Assert.DoesNotContain("transactions-20261121T090000.000Z.jsonl", rotated);
        var times = rotated.Select(name => JsonLinesFileSink.TryParseRotatedName(name!, out var utc) ? utc : default).ToArray();
        Assert.All(times, time => Assert.True(time > clock.GetUtcNow().UtcDateTime, $"{time:O}"));
        Assert.Equal(TimeSpan.FromMilliseconds(1), times[1] - times[0]);
        Assert.Equal(TimeSpan.FromMilliseconds(1), times[2] - times[1]);
        Assert.Matches(@"^transactions-20261122T100000\.0\d\dZ\.jsonl$", rotated[0]);

        // Oldest to newest, the kept files hold the last records without a gap; none is over the limit.
        var files = rotated.Select(name => Path.Combine(LogDirectory, name!)).Append(Path.Combine(LogDirectory, "transactions.jsonl")).ToArray();
        var hosts = new List<string>();
        foreach (var file in files)
        {
            Assert.InRange(new FileInfo(file).Length, 1, 4096);
            foreach (var line in await File.ReadAllLinesAsync(file))
            {
                hosts.Add(JsonDocument.Parse(line).RootElement.GetProperty("host").GetString()!);
            }
        }

        var first = records - hosts.Count;
        Assert.True(first > 0, "older rotations were deleted");
        Assert.Equal(Enumerable.Range(first, hosts.Count).Select(n => $"site{n}.example"), hosts);
    }

    [Fact]
    public async Task The_directory_it_makes_is_owner_only_and_its_files_owner_read_write()
    {
        var nested = Path.Combine(LogDirectory, "edge");
        await using (var log = new TransactionLog(Options with { Directory = nested, MaxFileBytes = 1024 }))
        {
            foreach (var record in TestRecords.Flows(20))
            {
                log.Write(record);
            }
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(nested));
        var files = Directory.GetFiles(nested);
        Assert.True(files.Length > 1, "the file rotated");
        Assert.All(files, file => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file)));
    }

    [Fact]
    public async Task A_failed_write_drops_and_counts_its_batch_and_writing_resumes_when_it_works_again()
    {
        Directory.CreateDirectory(LogDirectory);
        var path = Path.Combine(LogDirectory, "transactions.jsonl");

        // Every write to /dev/full fails with "no space left on device", as a full disk would.
        File.CreateSymbolicLink(path, "/dev/full");
        await using var log = new TransactionLog(Options);
        foreach (var record in TestRecords.Flows(5))
        {
            Assert.True(log.Write(record));
        }

        await Eventually.TrueAsync(() => log.Status[0].DroppedWriteError == 5, () => $"not counted: {log.Status[0]}");

        File.Delete(path);
        foreach (var record in TestRecords.Flows(8))
        {
            log.Write(record);
        }

        await Eventually.TrueAsync(() => log.Status[0].Written == 8, () => $"not written: {log.Status[0]}");
        Assert.Equal(8, (await File.ReadAllLinesAsync(path)).Length);
        Assert.Equal(new TransactionLogSinkStatus("file", 0, 65_536, 8, 0, 0, 5, 0), log.Status[0]);
    }
}
