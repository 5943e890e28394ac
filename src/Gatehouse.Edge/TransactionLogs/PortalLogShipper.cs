using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Edge.TransactionLogs;

/// <summary>
/// Posts batches to the portal (<c>POST /api/v1/edge/logs</c>, <see cref="TransactionLogBatch"/>) with the
/// edge's mutual-TLS client.
/// </summary>
/// <remarks>
/// <code>
/// batch ──serialise once──► POST ──2xx──► written (Accepted; any shortfall: dropped, rejected, and the
///                             │                    portal's problems with the refused records logged)
///                             │ network error, timeout, 5xx, 408, 429, 401, 403
///                             ├──► wait (Retry-After, else backoff) and post the same batch again;
///                             │    meanwhile the queue fills, and drops and counts when full
///                             └─ any other 4xx ──► dropped (rejected), the problem's detail logged
/// </code>
/// 401 and 403 are retried: they say the portal refuses the edge's certificate (revoked, or replaced by
/// a renewal that <see cref="TransactionLog.UsePortalClient"/> has not handed over yet), not that the batch is bad.
/// </remarks>
internal sealed class PortalLogShipper : TransactionLogSink
{
    /// <summary>How long one post may take.</summary>
    internal static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private const int MaxAnswerBytes = 64 * 1024;

    /// <summary>How many of the problems the portal lists with refused records are logged: enough to see why.</summary>
    private const int MaxProblemsLogged = 3;
    private static readonly Uri PathUri = new(TransactionLogBatch.Path, UriKind.Relative);
    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };

    private readonly Lock _gate = new();
    private readonly ArrayBufferWriter<byte> _body = new(512 * 1024);
    private readonly Utf8JsonWriter _json;
    private readonly byte[] _answer = new byte[MaxAnswerBytes];
    private HttpClient _client;
    private HttpClient? _nextClient;
    private int _failures;

    public PortalLogShipper(HttpClient client, TransactionLogOptions options, TimeProvider time, ILogger logger)
        : base("portal", options, time, logger)
    {
        _client = client;
        _json = new Utf8JsonWriter(_body);
    }

    /// <summary>Uses <paramref name="client"/> from the next post on and disposes the current one then.</summary>
    public void UseClient(HttpClient client)
    {
        lock (_gate)
        {
            var previous = _nextClient;
            _nextClient = client;
            previous?.Dispose();
        }
    }

    protected override async ValueTask<BatchOutcome> WriteBatchAsync(List<TransactionLogRecord> batch, CancellationToken abort)
    {
        _body.ResetWrittenCount();
        _json.Reset(_body);
        JsonSerializer.Serialize(_json, new TransactionLogBatch(batch), TransactionLogJson.Default.TransactionLogBatch);
        _json.Flush();

        while (true)
        {
            abort.ThrowIfCancellationRequested();
            var answer = await PostAsync(TakeClient(), batch.Count, abort).ConfigureAwait(false);
            if (answer.Retry is null)
            {
                if (_failures > 0)
                {
                    TransactionLogLog.PortalRecovered(Logger, _failures);
                    _failures = 0;
                }

                if (answer.Rejected is { } detail)
                {
                    TransactionLogLog.PortalRejected(Logger, batch.Count, answer.Status, detail);
                }
                else if (answer.Accepted < batch.Count)
                {
                    TransactionLogLog.PortalRefusedRecords(Logger, batch.Count - answer.Accepted, batch.Count, answer.Problems ?? "the portal did not say why.");
                }

                return new BatchOutcome(answer.Accepted, DropReason.Rejected);
            }

            var delay = answer.RetryAfter ?? Backoff(_failures);
            _failures++;
            if (_failures == 1)
            {
                TransactionLogLog.PortalFailed(Logger, answer.Retry, batch.Count, delay);
            }
            else
            {
                TransactionLogLog.PortalFailedAgain(Logger, _failures, answer.Retry, delay);
            }

            await Task.Delay(delay, Time, abort).ConfigureAwait(false);
        }
    }

    protected override ValueTask CloseAsync()
    {
        lock (_gate)
        {
            _client.Dispose();
            _nextClient?.Dispose();
            _nextClient = null;
        }

        _json.Dispose();
        return ValueTask.CompletedTask;
    }

    private HttpClient TakeClient()
    {
        lock (_gate)
        {
            if (_nextClient is not null)
            {
                _client.Dispose();
                _client = _nextClient;
                _nextClient = null;
            }

            return _client;
        }
    }

    private async Task<Answer> PostAsync(HttpClient client, int records, CancellationToken abort)
    {
        using var deadline = new CancellationTokenSource(RequestTimeout, Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(abort, deadline.Token);
        using var content = new ReadOnlyMemoryContent(_body.WrittenMemory);
        content.Headers.ContentType = Json;
        using var request = new HttpRequestMessage(HttpMethod.Post, PathUri) { Content = content };
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            var body = _answer.AsMemory(0, await ReadBoundedAsync(response, _answer, linked.Token).ConfigureAwait(false));
            if (response.IsSuccessStatusCode)
            {
                var (accepted, problems) = ResultOf(body, records);
                return new Answer(status, accepted, problems, null, null, null);
            }

            var detail = Detail(body) ?? $"{status} {response.ReasonPhrase}".TrimEnd();
            if (status >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                return new Answer(status, 0, null, null, $"The portal answered {status}: {detail}", RetryAfter(response));
            }

            return new Answer(status, 0, null, detail, null, null);
        }
        catch (OperationCanceledException) when (!abort.IsCancellationRequested)
        {
            return new Answer(0, 0, null, null, $"The portal did not answer within {RequestTimeout.TotalSeconds:0} s.", null);
        }
        catch (HttpRequestException e)
        {
            return new Answer(0, 0, null, null, $"The portal cannot be reached: {e.Message}", null);
        }
    }

    /// <summary>
    /// The portal's count of stored records, all of them when the answer does not say, and the problems it lists with
    /// the records it refused, on one line.
    /// </summary>
    private static (int Accepted, string? Problems) ResultOf(ReadOnlyMemory<byte> body, int records)
    {
        try
        {
            var result = body.Length == 0 ? null : JsonSerializer.Deserialize(body.Span, TransactionLogJson.Default.TransactionLogBatchResult);
            return result is { Accepted: >= 0 } && result.Accepted <= records ? (result.Accepted, ProblemsOf(result)) : (records, null);
        }
        catch (JsonException)
        {
            return (records, null);
        }
    }

    /// <summary>The details of the first problems an answer lists (each names its record and field); null when it lists none.</summary>
    private static string? ProblemsOf(TransactionLogBatchResult result)
    {
        if (result.Problems is not { Count: > 0 } problems)
        {
            return null;
        }

        var text = new StringBuilder();
        var listed = 0;
        for (var i = 0; i < problems.Count && listed < MaxProblemsLogged; i++)
        {
            if (problems[i]?.Detail is { } detail)
            {
                text.Append(listed++ == 0 ? "" : " ").Append(OneLine(detail));
            }
        }

        var unlisted = result.Refused - listed;
        if (listed > 0 && unlisted > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" And {unlisted} more.");
        }

        return listed == 0 ? null : text.ToString();
    }

    /// <summary>The <c>detail</c> (else <c>title</c>) of an RFC 9457 problem answer, on one line.</summary>
    private static string? Detail(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var problem = JsonDocument.Parse(body);
            if (problem.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            foreach (var name in (ReadOnlySpan<string>)["detail", "title"])
            {
                if (problem.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
                {
                    return OneLine(value.GetString()!);
                }
            }

            return null;
        }
        catch (JsonException)
        {
            // Not problem JSON (a proxy's error page): the status says what happened.
            return null;
        }
    }

    /// <summary>The portal's words on one line and at most 500 characters, fit for a log line.</summary>
    private static string OneLine(string text)
    {
        text = text.ReplaceLineEndings(" ");
        return text.Length > 500 ? text[..500] + "…" : text;
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var retry = response.Headers.RetryAfter;
        TimeSpan? wait = retry?.Delta ?? (retry?.Date is { } date ? date - Time.GetUtcNow() : null);
        if (wait is not { } value)
        {
            return null;
        }

        return value < TimeSpan.Zero ? TimeSpan.Zero : value > Options.MaxRetryDelay ? Options.MaxRetryDelay : value;
    }

    /// <summary>Reads at most the buffer's size of the answer: an answer is small, and a huge one is not read whole.</summary>
    private static async Task<int> ReadBoundedAsync(HttpResponseMessage response, byte[] buffer, CancellationToken ct)
    {
        var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var total = 0;
            int read;
            while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), ct).ConfigureAwait(false)) > 0)
            {
                total += read;
            }

            return total;
        }
    }

    /// <summary>
    /// One post's result: delivered (<see cref="Accepted"/>, and the <see cref="Problems"/> of records the portal refused
    /// one by one), refused for good (<see cref="Rejected"/>) or to be tried again (<see cref="Retry"/>).
    /// </summary>
    private readonly record struct Answer(int Status, int Accepted, string? Problems, string? Rejected, string? Retry, TimeSpan? RetryAfter);
}
