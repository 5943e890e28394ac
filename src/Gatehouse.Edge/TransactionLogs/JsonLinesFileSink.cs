using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Edge.TransactionLogs;

/// <summary>
/// Appends one JSON object per line to <c>transactions.jsonl</c>, one write per batch, and rotates it
/// to <c>transactions-{UTC time}.jsonl</c> before it would pass the size limit, keeping the newest
/// <see cref="TransactionLogOptions.MaxFiles"/> rotated files. A failed write drops its batch (counted
/// as <c>write_error</c>), closes the file and opens it again for the next batch.
/// </summary>
internal sealed class JsonLinesFileSink : TransactionLogSink
{
    /// <summary>The file being written.</summary>
    public const string FileName = "transactions.jsonl";

    private const string RotatedPrefix = "transactions-";
    private const string RotatedSuffix = ".jsonl";
    private const string TimestampFormat = "yyyyMMdd'T'HHmmss.fff'Z'";
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly string _directory;
    private readonly string _path;
    private readonly ArrayBufferWriter<byte> _pending = new(256 * 1024);
    private readonly ArrayBufferWriter<byte> _line = new(4096);
    private readonly Utf8JsonWriter _json;
    private FileStream? _stream;
    private long _size;
    private DateTime _lastRotation;
    private long _failedRecords;
    private bool _failing;

    public JsonLinesFileSink(TransactionLogOptions options, TimeProvider time, ILogger logger)
        : base("file", options, time, logger)
    {
        _directory = Path.GetFullPath(options.Directory!);
        _path = Path.Combine(_directory, FileName);
        _json = new Utf8JsonWriter(_line);
        EnsureDirectory();
        Prune();
    }

    public string FilePath => _path;

    protected override ValueTask<BatchOutcome> WriteBatchAsync(List<TransactionLogRecord> batch, CancellationToken abort)
    {
        // The file is written synchronously on the sink's own task: appends to a local file are short
        // and the data path never waits for them.
        var written = 0;
        var pendingRecords = 0;
        _pending.ResetWrittenCount();
        try
        {
            _stream ??= Open();
            foreach (var record in batch)
            {
                _line.ResetWrittenCount();
                _json.Reset(_line);
                JsonSerializer.Serialize(_json, record, TransactionLogJson.Default.TransactionLogRecord);
                _json.Flush();
                _line.Write("\n"u8);

                if (_size + _pending.WrittenCount + _line.WrittenCount > Options.MaxFileBytes && _size + _pending.WrittenCount > 0)
                {
                    Append();
                    written += pendingRecords;
                    pendingRecords = 0;
                    Rotate();
                }

                _pending.Write(_line.WrittenSpan);
                pendingRecords++;
            }

            Append();
            written += pendingRecords;
            if (_failing)
            {
                _failing = false;
                TransactionLogLog.FileWriteRecovered(Logger, _path, _failedRecords);
                _failedRecords = 0;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _failedRecords += batch.Count - written;
            if (!_failing)
            {
                _failing = true;
                TransactionLogLog.FileWriteFailed(Logger, _path, e);
            }

            CloseQuietly();
        }

        return ValueTask.FromResult(new BatchOutcome(written, DropReason.WriteError));
    }

    protected override ValueTask CloseAsync()
    {
        var stream = _stream;
        _stream = null;
        try
        {
            stream?.Flush(flushToDisk: true);
        }
        finally
        {
            stream?.Dispose();
            _json.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Parses the time in a rotated file's name; false for files that are not rotations of ours.</summary>
    internal static bool TryParseRotatedName(string fileName, out DateTime utc)
    {
        utc = default;
        return fileName.StartsWith(RotatedPrefix, StringComparison.Ordinal)
            && fileName.EndsWith(RotatedSuffix, StringComparison.Ordinal)
            && DateTime.TryParseExact(
                fileName.AsSpan(RotatedPrefix.Length, fileName.Length - RotatedPrefix.Length - RotatedSuffix.Length),
                TimestampFormat,
                CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal,
                out utc);
    }

    /// <summary>One write of the lines gathered so far: the OS has them when it returns.</summary>
    private void Append()
    {
        if (_pending.WrittenCount == 0)
        {
            return;
        }

        _stream!.Write(_pending.WrittenSpan);
        _size += _pending.WrittenCount;
        _pending.ResetWrittenCount();
    }

    /// <summary>Makes the directory when it is missing (also when it was deleted while the edge runs).</summary>
    private void EnsureDirectory()
    {
        if (System.IO.Directory.Exists(_directory))
        {
            // An existing directory keeps its mode: the operator may let a log forwarder's group in.
            return;
        }

        // Records name users and the sites they visit: a directory the edge makes is its alone.
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(_directory);
        }
        else
        {
            System.IO.Directory.CreateDirectory(_directory, OwnerDirectory);
        }
    }

    private FileStream Open()
    {
        EnsureDirectory();
        var options = new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            Share = FileShare.Read | FileShare.Delete,

            // No buffer of its own: each batch is one write, so a crash of the edge loses nothing written.
            BufferSize = 0,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerReadWrite;
        }

        var stream = new FileStream(_path, options);
        _size = stream.Length;
        return stream;
    }

    private void Rotate()
    {
        var stream = _stream!;
        _stream = null;
        stream.Flush(flushToDisk: true);
        stream.Dispose();

        // Names are strictly increasing, so sorting by name is sorting by age even when the clock stands still.
        var utc = Time.GetUtcNow().UtcDateTime;
        utc = new DateTime(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);
        if (utc <= _lastRotation)
        {
            utc = _lastRotation.AddMilliseconds(1);
        }

        string rotated;
        while (File.Exists(rotated = Path.Combine(_directory, RotatedName(utc))))
        {
            utc = utc.AddMilliseconds(1);
        }

        File.Move(_path, rotated);
        _lastRotation = utc;
        TransactionLogLog.FileRotated(Logger, _path, rotated);
        Prune();
        _stream = Open();
    }

    private static string RotatedName(DateTime utc) => RotatedPrefix + utc.ToString(TimestampFormat, CultureInfo.InvariantCulture) + RotatedSuffix;

    /// <summary>Deletes the oldest rotated files beyond the limit; files of other names are left alone.</summary>
    private void Prune()
    {
        var rotated = new List<(DateTime Time, string Path)>();
        foreach (var path in System.IO.Directory.EnumerateFiles(_directory, RotatedPrefix + "*" + RotatedSuffix))
        {
            if (TryParseRotatedName(Path.GetFileName(path), out var utc))
            {
                rotated.Add((utc, path));
            }
        }

        rotated.Sort(static (a, b) => b.Time.CompareTo(a.Time));
        if (rotated.Count > 0 && rotated[0].Time > _lastRotation)
        {
            _lastRotation = rotated[0].Time;
        }

        for (var i = Options.MaxFiles; i < rotated.Count; i++)
        {
            try
            {
                File.Delete(rotated[i].Path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                TransactionLogLog.FilePruneFailed(Logger, rotated[i].Path, e);
            }
        }
    }

    private void CloseQuietly()
    {
        var stream = _stream;
        _stream = null;
        try
        {
            stream?.Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The write already failed and is counted; the next batch opens the file again.
        }
    }
}
