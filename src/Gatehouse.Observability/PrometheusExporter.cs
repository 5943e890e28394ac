using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Numerics;

namespace Gatehouse.Observability;

/// <summary>
/// Aggregates the measurements of <see cref="System.Diagnostics.Metrics"/> instruments and renders them in the
/// Prometheus text exposition format, version 0.0.4, for a <c>GET /metrics</c> endpoint.
/// </summary>
/// <remarks>
/// <para>
/// A <see cref="MeterListener"/> subscribes to every instrument of a matching meter, including instruments created
/// after the exporter. <see cref="Counter{T}"/> and <see cref="ObservableCounter{T}"/> become <c>counter</c>s named
/// <c>…_total</c>; <see cref="UpDownCounter{T}"/>, <see cref="ObservableUpDownCounter{T}"/>,
/// <see cref="ObservableGauge{T}"/> and <see cref="Gauge{T}"/> become <c>gauge</c>s; <see cref="Histogram{T}"/>
/// becomes a <c>histogram</c>. Tags become labels, sorted by name.
/// </para>
/// <para>
/// Recording is lock-free and, once a series exists, allocation-free. Rendering observes the observable instruments
/// and is serialised, so concurrent scrapes are safe. Dispose the exporter to stop collecting.
/// </para>
/// </remarks>
public sealed class PrometheusExporter : IDisposable
{
    /// <summary>The <c>Content-Type</c> of the text that <see cref="Render"/> and <see cref="WriteTo"/> produce.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    // Suited to durations in seconds, from half a millisecond to ten seconds.
    private static readonly double[] DefaultSecondsBounds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    // The same bounds for instruments whose unit is "ms"; written out because multiplying leaves binary noise (0.0025 * 1000).
    private static readonly double[] DefaultMillisecondsBounds = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

    private readonly Func<Meter, bool> _include;
    private readonly MeterListener _listener;
    private readonly ConcurrentDictionary<Instrument, MetricFamily> _families = new();
    private readonly Lock _collectionLock = new();
    private long _published;
    private bool _disposed;

    /// <summary>Exports every meter whose name starts with one of <paramref name="meterNamePrefixes"/> (ordinal).</summary>
    /// <param name="meterNamePrefixes">Prefixes such as <c>"Gatehouse"</c>; with none, every meter in the process is exported.</param>
    public PrometheusExporter(params string[] meterNamePrefixes)
        : this(MatchPrefixes(meterNamePrefixes))
    {
    }

    /// <summary>Exports every meter for which <paramref name="include"/> returns true.</summary>
    /// <param name="include">Decides once per instrument, when it is published, whether its meter is exported.</param>
    public PrometheusExporter(Func<Meter, bool> include)
    {
        ArgumentNullException.ThrowIfNull(include);
        _include = include;
        _listener = new MeterListener
        {
            InstrumentPublished = OnInstrumentPublished,
            MeasurementsCompleted = OnMeasurementsCompleted,
        };

        // The state is the instrument's family, so the callbacks need no lookup and capture nothing.
        _listener.SetMeasurementEventCallback<byte>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<short>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>(static (_, value, tags, state) => ((MetricFamily)state!).Record((double)value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<decimal>(static (_, value, tags, state) => ((MetricFamily)state!).Record((double)value, tags));
        _listener.Start();
    }

    /// <summary>Observes the observable instruments and returns every metric family, ordered by name.</summary>
    /// <returns>The exposition text; every line, the last included, ends with a line feed.</returns>
    /// <exception cref="ObjectDisposedException">The exporter has been disposed.</exception>
    public string Render()
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        WriteTo(writer);
        return writer.ToString();
    }

    /// <summary>Observes the observable instruments and writes every metric family, ordered by name, to <paramref name="writer"/>.</summary>
    /// <param name="writer">Receives the exposition text; lines end with <c>\n</c> whatever the platform.</param>
    /// <exception cref="ObjectDisposedException">The exporter has been disposed.</exception>
    public void WriteTo(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        lock (_collectionLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);

            var families = _families.Values.ToArray();
            foreach (var family in families)
            {
                if (family.IsObservable)
                {
                    family.BeginCollection();
                }
            }

            // A callback that throws costs its own instrument's series, not the whole scrape.
            AggregateException? failures = null;
            try
            {
                _listener.RecordObservableInstruments();
            }
            catch (AggregateException e)
            {
                failures = e;
            }

            // Instruments published since the snapshot above are picked up at the next scrape.
            Array.Sort(families, static (a, b) =>
            {
                int order = string.CompareOrdinal(a.Name, b.Name);
                order = order != 0 ? order : string.CompareOrdinal(a.MeterName, b.MeterName);
                return order != 0 ? order : a.Sequence.CompareTo(b.Sequence);
            });

            WriteFamilies(writer, families);
            if (failures is not null)
            {
                // Plain comments are ignored by scrapers but seen by whoever curls the endpoint.
                foreach (var failure in failures.InnerExceptions)
                {
                    WriteComment(writer, $"an observable instrument callback failed: {failure.GetType().Name}: {failure.Message}");
                }
            }
        }
    }

    /// <summary>Stops collecting: the listener unsubscribes from every instrument and the series are dropped.</summary>
    public void Dispose()
    {
        lock (_collectionLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _listener.Dispose();
            _families.Clear();
        }
    }

    private static void WriteFamilies(TextWriter writer, MetricFamily[] families)
    {
        // Instruments whose names sanitise alike ("a.b" and "a_b", or one name in two meters) share one family:
        // one header, written before the first series. A second type under the same name would be refused by
        // the scraper, so that instrument is left out and said so.
        string? name = null;
        string? type = null;
        foreach (var family in families)
        {
            if (!string.Equals(family.Name, name, StringComparison.Ordinal))
            {
                name = family.Name;
                type = null;
            }

            if (type is not null && !string.Equals(type, family.TypeName, StringComparison.Ordinal))
            {
                WriteComment(writer, $"left out {family.InstrumentName} of meter {family.MeterName}: {family.Name} is already a {type}");
                continue;
            }

            if (family.Write(writer, writeHeader: type is null))
            {
                type = family.TypeName;
            }
        }
    }

    private static void WriteComment(TextWriter writer, string text)
    {
        writer.Write("# ");
        writer.Write(text.ReplaceLineEndings(" "));
        writer.Write('\n');
    }

    private static Func<Meter, bool> MatchPrefixes(string[] prefixes)
    {
        ArgumentNullException.ThrowIfNull(prefixes);
        var copy = (string[])prefixes.Clone();
        if (copy.Length == 0)
        {
            return static _ => true;
        }

        return meter =>
        {
            foreach (var prefix in copy)
            {
                if (meter.Name.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return true;
                }
            }

            return false;
        };
    }

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (!_include(instrument.Meter))
        {
            return;
        }

        var family = CreateFamily(instrument, Interlocked.Increment(ref _published));
        if (family is not null && _families.TryAdd(instrument, family))
        {
            listener.EnableMeasurementEvents(instrument, family);
        }
    }

    private void OnMeasurementsCompleted(Instrument instrument, object? state) => _families.TryRemove(instrument, out _);

    private static MetricFamily? CreateFamily(Instrument instrument, long sequence)
    {
        var type = instrument.GetType();
        if (!type.IsGenericType)
        {
            return null;
        }

        var definition = type.GetGenericTypeDefinition();
        var valueType = type.GetGenericArguments()[0];
        bool integral = valueType == typeof(byte) || valueType == typeof(short) || valueType == typeof(int) || valueType == typeof(long);
        string name = PrometheusText.SanitizeMetricName(instrument.Name);

        if (definition == typeof(Counter<>) || definition == typeof(ObservableCounter<>))
        {
            if (!name.EndsWith("_total", StringComparison.Ordinal))
            {
                name += "_total";
            }

            var aggregation = instrument.IsObservable ? ScalarAggregation.LastValue : ScalarAggregation.MonotonicSum;
            return new ScalarFamily(instrument, name, sequence, isCounter: true, aggregation, integral);
        }

        if (definition == typeof(UpDownCounter<>))
        {
            return new ScalarFamily(instrument, name, sequence, isCounter: false, ScalarAggregation.Sum, integral);
        }

        if (definition == typeof(ObservableUpDownCounter<>) || definition == typeof(ObservableGauge<>) || definition == typeof(Gauge<>))
        {
            return new ScalarFamily(instrument, name, sequence, isCounter: false, ScalarAggregation.LastValue, integral);
        }

        if (definition == typeof(Histogram<>))
        {
            return new HistogramFamily(instrument, name, sequence, BucketBounds(instrument));
        }

        return null;
    }

    private static double[] BucketBounds(Instrument instrument)
    {
        var advised = instrument switch
        {
            Instrument<byte> i => ToDoubles(i.Advice?.HistogramBucketBoundaries),
            Instrument<short> i => ToDoubles(i.Advice?.HistogramBucketBoundaries),
            Instrument<int> i => ToDoubles(i.Advice?.HistogramBucketBoundaries),
            Instrument<long> i => ToDoubles(i.Advice?.HistogramBucketBoundaries),
            Instrument<float> i => ToDoubles(i.Advice?.HistogramBucketBoundaries),
            Instrument<double> i => ToDoubles(i.Advice?.HistogramBucketBoundaries),
            Instrument<decimal> i => ToDoubles(i.Advice?.HistogramBucketBoundaries),
            _ => null,
        };

        if (advised is not null)
        {
            return advised;
        }

        return string.Equals(instrument.Unit, "ms", StringComparison.Ordinal) ? DefaultMillisecondsBounds : DefaultSecondsBounds;
    }

    private static double[]? ToDoubles<T>(IReadOnlyList<T>? bounds)
        where T : struct, INumber<T>
    {
        if (bounds is null)
        {
            return null;
        }

        // +Inf is always the last bucket; an explicit one, or a NaN, would make a second or a meaningless one.
        var result = new List<double>(bounds.Count);
        foreach (var bound in bounds)
        {
            double value = double.CreateTruncating(bound);
            if (double.IsFinite(value))
            {
                result.Add(value);
            }
        }

        result.Sort();
        var distinct = new List<double>(result.Count);
        foreach (double value in result)
        {
            if (distinct.Count == 0 || distinct[^1] != value)
            {
                distinct.Add(value);
            }
        }

        return [.. distinct];
    }
}
