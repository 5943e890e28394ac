using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;

namespace Gatehouse.Testing.Tls;

/// <summary>
/// How Kestrel says connections to one port ended: the <c>error.type</c> of its <c>kestrel.connection.duration</c>
/// measurements. Kestrel's own reasons are snake_case (<c>tls_handshake_failed</c>); an exception's type name
/// there means it escaped the connection pipeline, which Kestrel also logs as "Unhandled exception while processing".
/// </summary>
public sealed class ConnectionEndings : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly int _port;
    private readonly ConcurrentQueue<string> _errors = new();
    private int _count;

    /// <summary>Starts listening for connections to <paramref name="port"/> that end from now on.</summary>
    public ConnectionEndings(int port)
    {
        _port = port;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument is { Name: "kestrel.connection.duration", Meter.Name: "Microsoft.AspNetCore.Server.Kestrel" })
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((_, _, tags, _) => Record(tags));
        _listener.Start();
    }

    /// <summary>How many connections to the port have ended so far.</summary>
    public int Ended => Volatile.Read(ref _count);

    /// <summary>The exception types that escaped Kestrel's connection pipeline, once <paramref name="connections"/> connections have ended (bounded wait).</summary>
    public async Task<IReadOnlyList<string>> UnhandledExceptionsAsync(int connections)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (Volatile.Read(ref _count) < connections)
        {
            await Task.Delay(20, timeout.Token);
        }

        return [.. _errors.Where(e => e.EndsWith("Exception", StringComparison.Ordinal))];
    }

    /// <summary>How many connections to the port have ended with <paramref name="errorType"/> (such as <c>request_headers_timeout</c>) so far.</summary>
    public int EndedWith(string errorType) => _errors.Count(e => e == errorType);

    private void Record(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var port = false;
        string? error = null;
        foreach (var tag in tags)
        {
            if (tag.Key == "server.port")
            {
                port = Convert.ToInt32(tag.Value, CultureInfo.InvariantCulture) == _port;
            }
            else if (tag.Key == "error.type")
            {
                error = tag.Value?.ToString();
            }
        }

        if (port)
        {
            if (error is not null)
            {
                _errors.Enqueue(error);
            }

            Interlocked.Increment(ref _count);
        }
    }

    public void Dispose() => _listener.Dispose();
}
