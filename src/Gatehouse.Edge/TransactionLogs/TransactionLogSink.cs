using Gatehouse.Wire.Logs;

namespace Gatehouse.Edge.TransactionLogs;

/// <summary>Why a sink did not deliver a record; the <c>reason</c> label of the dropped counter.</summary>
internal enum DropReason
{
    /// <summary>The sink's queue was full when the record was written.</summary>
    QueueFull,

    /// <summary>The receiver refused it (the portal answered 4xx, or accepted fewer records than sent).</summary>
    Rejected,

    /// <summary>Writing failed (a file write error).</summary>
    WriteError,

    /// <summary>Still queued, or being delivered, when the shutdown timeout ran out.</summary>
    Shutdown,
}

/// <summary>What became of a batch: how many records were delivered, and why the rest were not.</summary>
internal readonly record struct BatchOutcome(int Written, DropReason Rest);

/// <summary>
/// One destination of transaction logs: its own bounded queue, drained in batches by one background
/// task, with every record accounted for as written or dropped for a reason.
/// </summary>
/// <remarks>
/// <code>
/// Write (any thread) ──TryWrite──► RecordQueue ──► drain loop (one task)
///   full: drop, count queue_full      │  wait for 1 record, then up to FlushInterval for BatchSize
///   never waits, never locks          ▼
///                                WriteBatchAsync ──► written │ dropped(rejected, write_error)
///                                stop: drain without waiting; at ShutdownTimeout abort,
///                                      the batch in hand and the rest of the queue: dropped(shutdown)
/// </code>
/// </remarks>
internal abstract class TransactionLogSink
{
    private readonly RecordQueue _queue;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly long[] _dropped = new long[4];
    private long _written;
    private TaskCompletionSource? _waiter;
    private int _wakeAt = 1;
    private long _reportedQueueFull;
    private bool _queueFullStreak;
    private Task _loop = Task.CompletedTask;

    protected TransactionLogSink(string name, TransactionLogOptions options, TimeProvider time, ILogger logger)
    {
        Name = name;
        Options = options;
        Time = time;
        Logger = logger;
        _queue = new RecordQueue(options.QueueCapacity);
    }

    /// <summary>The sink's name, the <c>sink</c> label of its metrics: <c>file</c>, <c>portal</c>, <c>syslog</c>.</summary>
    public string Name { get; }

    public int QueueDepth => _queue.Count;

    public int QueueCapacity => _queue.Capacity;

    public long Written => Volatile.Read(ref _written);

    protected TransactionLogOptions Options { get; }

    protected TimeProvider Time { get; }

    protected ILogger Logger { get; }

    public long Dropped(DropReason reason) => Volatile.Read(ref _dropped[(int)reason]);

    public TransactionLogSinkStatus Status() => new(
        Name, QueueDepth, QueueCapacity, Written,
        Dropped(DropReason.QueueFull), Dropped(DropReason.Rejected), Dropped(DropReason.WriteError), Dropped(DropReason.Shutdown));

    public void Start() => _loop = Task.Run(RunAsync);

    /// <summary>Queues a record, or drops and counts it when the queue is full. Never blocks.</summary>
    public bool TryWrite(TransactionLogRecord record)
    {
        if (!_queue.TryEnqueue(record))
        {
            Interlocked.Increment(ref _dropped[(int)DropReason.QueueFull]);
            return false;
        }

        // Only a waiting drain loop costs the writer more than this read.
        var waiter = Volatile.Read(ref _waiter);
        if (waiter is not null && _queue.Count >= Volatile.Read(ref _wakeAt) && Interlocked.CompareExchange(ref _waiter, null, waiter) == waiter)
        {
            // Continuations run asynchronously, so the sink's work never runs on the writer's thread.
            waiter.TrySetResult();
        }

        return true;
    }

    /// <summary>
    /// Delivers what is queued without waiting for full batches, gives up after <paramref name="timeout"/>,
    /// and counts what is left as dropped at shutdown.
    /// </summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (_stopping.IsCancellationRequested)
        {
            await _loop.ConfigureAwait(false);
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        Interlocked.Exchange(ref _waiter, null)?.TrySetResult();
        using (Time.CreateTimer(static state => ((CancellationTokenSource)state!).Cancel(), _abort, timeout, Timeout.InfiniteTimeSpan))
        {
            await _loop.ConfigureAwait(false);
        }

        try
        {
            await CloseAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            TransactionLogLog.CloseFailed(Logger, Name, e);
        }

        var left = 0;
        while (_queue.TryDequeue(out _))
        {
            left++;
        }

        if (left > 0)
        {
            Count(DropReason.Shutdown, left);
        }

        var dropped = Dropped(DropReason.Shutdown);
        if (dropped > 0)
        {
            TransactionLogLog.ShutdownDropped(Logger, Name, dropped, timeout);
        }

        // The token sources are not disposed: a timer callback may still be cancelling one, and they own no timer of their own.
        TransactionLogLog.SinkStopped(Logger, Name, Written, TotalDropped());
    }

    /// <summary>Delivers one batch, retrying as the sink sees fit; throws <see cref="OperationCanceledException"/> only on <paramref name="abort"/>.</summary>
    protected abstract ValueTask<BatchOutcome> WriteBatchAsync(List<TransactionLogRecord> batch, CancellationToken abort);

    /// <summary>Releases the file or connection after the last batch.</summary>
    protected virtual ValueTask CloseAsync() => ValueTask.CompletedTask;

    /// <summary>A capped exponential backoff with jitter: between half and all of <c>min · 2^failures</c>, at most the maximum.</summary>
    protected TimeSpan Backoff(int failures)
    {
        var ceiling = Math.Min(Options.MaxRetryDelay.TotalMilliseconds, Options.MinRetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures, 30)));
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + (Random.Shared.NextDouble() / 2)));
    }

    private void Count(DropReason reason, long records) => Interlocked.Add(ref _dropped[(int)reason], records);

    private long TotalDropped()
    {
        long total = 0;
        foreach (var reason in Enum.GetValues<DropReason>())
        {
            total += Dropped(reason);
        }

        return total;
    }

    private async Task RunAsync()
    {
        var batch = new List<TransactionLogRecord>(Options.BatchSize);
        var abort = _abort.Token;
        while (await WaitForRecordsAsync().ConfigureAwait(false))
        {
            while (batch.Count < Options.BatchSize && _queue.TryDequeue(out var record))
            {
                batch.Add(record);
            }

            ReportQueueFull();
            if (batch.Count == 0)
            {
                // A writer has claimed a cell but not filled it yet.
                await Task.Yield();
                continue;
            }

            try
            {
                var outcome = await WriteBatchAsync(batch, abort).ConfigureAwait(false);
                Interlocked.Add(ref _written, outcome.Written);
                if (outcome.Written < batch.Count)
                {
                    Count(outcome.Rest, batch.Count - outcome.Written);
                }
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                Count(DropReason.Shutdown, batch.Count);
                return;
            }
            catch (Exception e)
            {
                // A sink's own bug costs its batch, never the loop: the next batch is tried as usual.
                TransactionLogLog.SinkFailed(Logger, Name, batch.Count, e);
                Count(DropReason.WriteError, batch.Count);
            }

            batch.Clear();
        }
    }

    /// <summary>Waits for a record, then up to the flush interval for a full batch; false when stopping with nothing queued.</summary>
    private async ValueTask<bool> WaitForRecordsAsync()
    {
        while (_queue.Count == 0)
        {
            if (_stopping.IsCancellationRequested)
            {
                return false;
            }

            await WaitAsync(1, Timeout.InfiniteTimeSpan).ConfigureAwait(false);
        }

        // A queue smaller than a batch is a full batch when it is full: waiting longer would only drop.
        var batch = Math.Min(Options.BatchSize, _queue.Capacity);
        if (!_stopping.IsCancellationRequested && _queue.Count < batch && Options.FlushInterval > TimeSpan.Zero)
        {
            await WaitAsync(batch, Options.FlushInterval).ConfigureAwait(false);
        }

        return true;
    }

    private async ValueTask WaitAsync(int records, TimeSpan timeout)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _wakeAt, records);
        Interlocked.Exchange(ref _waiter, signal);

        // A writer that enqueued before the waiter was visible did not wake it: look again.
        if (_queue.Count >= records || _stopping.IsCancellationRequested)
        {
            Interlocked.CompareExchange(ref _waiter, null, signal);
            return;
        }

        try
        {
            await signal.Task.WaitAsync(timeout, Time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Interlocked.CompareExchange(ref _waiter, null, signal);
        }
    }

    /// <summary>Logs once when a queue starts dropping and once when it stops, never per record.</summary>
    private void ReportQueueFull()
    {
        var dropped = Dropped(DropReason.QueueFull);
        if (dropped != _reportedQueueFull)
        {
            if (!_queueFullStreak)
            {
                TransactionLogLog.QueueFull(Logger, Name, _queue.Capacity);
                _queueFullStreak = true;
            }
        }
        else if (_queueFullStreak)
        {
            TransactionLogLog.QueueRecovered(Logger, Name, dropped);
            _queueFullStreak = false;
        }

        _reportedQueueFull = dropped;
    }
}
