using Gatehouse.Edge.Flows;
using System.Diagnostics.Metrics;
using Gatehouse.Wire.Logs;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Edge.TransactionLogs;

/// <summary>
/// The edge's transaction log: one record per flow and per HTTP request, fanned out to JSON-lines
/// files, the portal and a SIEM, each through its own bounded queue. <see cref="Write"/> is for the
/// data path: it never blocks, never throws and allocates nothing; a sink whose queue is full drops
/// the record and counts it, and a slow sink never makes another one drop.
/// </summary>
/// <remarks>
/// <code>
///                        ┌─► queue (file)   ──► JsonLinesFileSink  ──► transactions.jsonl, rotated
/// data path ── Write ────┼─► queue (portal) ──► PortalLogShipper   ──► POST /api/v1/edge/logs (mTLS)
///   (any thread)         └─► queue (syslog) ──► SyslogTcpSink      ──► SIEM, RFC 5424 over TCP
///                        full queue: dropped{sink, reason="queue_full"}, Write returns false
///
/// metrics on the given meter: gatehouse_edge_log_records_written_total{sink},
///   gatehouse_edge_log_records_dropped_total{sink,reason}, gatehouse_edge_log_queue_depth{sink}
/// </code>
/// </remarks>
public sealed class TransactionLog : IAsyncDisposable, ITransactionRecorder
{
    private readonly TransactionLogSink[] _sinks;
    private readonly PortalLogShipper? _portal;
    private readonly TransactionLogOptions _options;
    private readonly ILogger _logger;
    private volatile bool _stopped;
    private int _disposed;

    /// <summary>Checks the options, opens or makes the log directory, and starts one background task per enabled sink.</summary>
    /// <param name="options">Where the logs go; see <see cref="TransactionLogOptions"/>.</param>
    /// <param name="portalClient">
    /// The client to the portal, with the edge's client certificate and the portal as base address
    /// (<c>NodeHttpClient.Create(credentials)</c>); required when <see cref="TransactionLogOptions.ShipToPortal"/> is set.
    /// Once the constructor returns, the log owns it and disposes it.
    /// </param>
    /// <param name="meter">Where the instruments go (the edge's <c>EdgeMetrics.Meter</c>); none when not given.</param>
    /// <param name="time">The clock of batching, backoff and rotated file names; the system clock when not given.</param>
    /// <param name="logger">Where to log; nowhere when not given.</param>
    /// <exception cref="TransactionLogOptionsException">The options are not valid.</exception>
    /// <exception cref="ArgumentException">Records are to be shipped to the portal but no client is given.</exception>
    /// <exception cref="IOException">The log directory cannot be made or read.</exception>
    /// <exception cref="UnauthorizedAccessException">The log directory cannot be made or read.</exception>
    public TransactionLog(TransactionLogOptions options, HttpClient? portalClient = null, Meter? meter = null, TimeProvider? time = null, ILogger<TransactionLog>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.EnsureValid();
        if (options.ShipToPortal && portalClient is null)
        {
            throw new ArgumentException("Shipping transaction logs to the portal needs a portal client.", nameof(portalClient));
        }

        _options = options;
        time ??= TimeProvider.System;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        var sinks = new List<TransactionLogSink>(3);
        var described = new List<string>(3);
        if (options.Directory is not null)
        {
            var file = new JsonLinesFileSink(options, time, _logger);
            sinks.Add(file);
            described.Add($"files in {Path.GetDirectoryName(file.FilePath)}");
        }

        if (options.ShipToPortal)
        {
            _portal = new PortalLogShipper(portalClient!, options, time, _logger);
            sinks.Add(_portal);
            described.Add($"the portal ({portalClient!.BaseAddress})");
        }
        else
        {
            // The client is the log's to dispose, used or not.
            portalClient?.Dispose();
        }

        if (options.SyslogEndpoint is not null)
        {
            sinks.Add(new SyslogTcpSink(options, time, _logger));
            described.Add($"syslog to {options.SyslogEndpoint}");
        }

        _sinks = [.. sinks];
        if (meter is not null)
        {
            TransactionLogMetrics.Register(meter, _sinks);
        }

        foreach (var sink in _sinks)
        {
            sink.Start();
        }

        TransactionLogLog.Started(_logger, described.Count == 0 ? "nowhere (no directory, portal or syslog configured)" : string.Join(", ", described));
    }

    /// <summary>The enabled sinks: <c>file</c>, <c>portal</c>, <c>syslog</c>, in that order.</summary>
    public IReadOnlyList<string> Sinks => Array.ConvertAll(_sinks, static sink => sink.Name);

    /// <summary>What each enabled sink has written, dropped and queued so far.</summary>
    public IReadOnlyList<TransactionLogSinkStatus> Status => Array.ConvertAll(_sinks, static sink => sink.Status());

    /// <inheritdoc />
    void ITransactionRecorder.Record(TransactionLogRecord record) => Write(record);

    /// <summary>
    /// Queues <paramref name="record"/> for every enabled sink. Safe from any number of threads; never
    /// blocks, never throws, allocates nothing.
    /// </summary>
    /// <param name="record">The record; the sinks keep a reference, so it must not change afterwards (records are immutable).</param>
    /// <returns>
    /// <see langword="true"/> when every sink queued it; <see langword="false"/> when some sink's queue was
    /// full (that sink dropped and counted it), the record is null, or the log is stopping. A record written
    /// while <see cref="DisposeAsync"/> runs may be neither delivered nor counted.
    /// </returns>
    public bool Write(TransactionLogRecord record)
    {
        if (record is null || _stopped)
        {
            return false;
        }

        var all = true;
        foreach (var sink in _sinks)
        {
            all &= sink.TryWrite(record);
        }

        return all;
    }

    /// <summary>
    /// Ships with <paramref name="client"/> from the next post on, for a renewed certificate (the portal
    /// refuses the old one). The log owns the client; the previous one is disposed once it is no longer used.
    /// </summary>
    /// <param name="client">A client made like the one given at construction.</param>
    public void UsePortalClient(HttpClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (_portal is null || _stopped)
        {
            client.Dispose();
            return;
        }

        _portal.UseClient(client);
    }

    /// <summary>
    /// Stops taking records, delivers what is queued for at most <see cref="TransactionLogOptions.ShutdownTimeout"/>
    /// (all sinks at once), then drops and counts what is left, closes the file and the connections.
    /// </summary>
    /// <returns>A task that completes when every sink has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopped = true;
        var stopping = new Task[_sinks.Length];
        for (var i = 0; i < _sinks.Length; i++)
        {
            stopping[i] = _sinks[i].StopAsync(_options.ShutdownTimeout);
        }

        await Task.WhenAll(stopping).ConfigureAwait(false);
    }
}

/// <summary>What one sink has done since the log started.</summary>
/// <param name="Sink">The sink: <c>file</c>, <c>portal</c> or <c>syslog</c>.</param>
/// <param name="QueueDepth">Records waiting in its queue.</param>
/// <param name="QueueCapacity">The most records its queue holds.</param>
/// <param name="Written">Records delivered: written to the file, accepted by the portal, sent to the SIEM.</param>
/// <param name="DroppedQueueFull">Records dropped because the queue was full.</param>
/// <param name="DroppedRejected">Records the portal refused (4xx other than 401, 403, 408, 429, or fewer accepted than sent).</param>
/// <param name="DroppedWriteError">Records lost to a failed file write (or a sink failure).</param>
/// <param name="DroppedShutdown">Records not delivered within the shutdown timeout.</param>
public sealed record TransactionLogSinkStatus(
    string Sink,
    int QueueDepth,
    int QueueCapacity,
    long Written,
    long DroppedQueueFull,
    long DroppedRejected,
    long DroppedWriteError,
    long DroppedShutdown)
{
    /// <summary>Records dropped for any reason.</summary>
    public long Dropped => DroppedQueueFull + DroppedRejected + DroppedWriteError + DroppedShutdown;
}
