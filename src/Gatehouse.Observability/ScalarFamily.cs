using System.Diagnostics.Metrics;

namespace Gatehouse.Observability;

/// <summary>How a scalar instrument's measurements combine into its series' values.</summary>
internal enum ScalarAggregation
{
    /// <summary>Counter: measurements are increments; negative ones are dropped so that the total never falls.</summary>
    MonotonicSum,

    /// <summary>UpDownCounter: measurements are increments of either sign.</summary>
    Sum,

    /// <summary>Gauge and every observable instrument: a measurement is the current value.</summary>
    LastValue,
}

/// <summary>A counter or a gauge: one number per series, <see cref="long"/> for integer instruments.</summary>
internal sealed class ScalarFamily : MetricFamily
{
    private readonly ScalarAggregation _aggregation;
    private readonly bool _integral;
    private readonly SeriesMap<ScalarSeries> _series = new(static _ => new ScalarSeries());

    public ScalarFamily(Instrument instrument, string name, long sequence, bool isCounter, ScalarAggregation aggregation, bool integral)
        : base(instrument, name, sequence)
    {
        TypeName = isCounter ? "counter" : "gauge";
        _aggregation = aggregation;
        _integral = integral;
    }

    public override string TypeName { get; }

    public override void Record(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        switch (_aggregation)
        {
            case ScalarAggregation.MonotonicSum when value >= 0:
            case ScalarAggregation.Sum:
                _series.GetOrAdd(tags).Add(value);
                break;
            case ScalarAggregation.LastValue:
                _series.GetOrAdd(tags).Set(value, Collection);
                break;
        }
    }

    public override void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        switch (_aggregation)
        {
            // Also drops NaN, which would stick to the sum for good.
            case ScalarAggregation.MonotonicSum when value >= 0:
            case ScalarAggregation.Sum when !double.IsNaN(value):
                _series.GetOrAdd(tags).Add(value);
                break;
            case ScalarAggregation.LastValue:
                _series.GetOrAdd(tags).Set(value, Collection);
                break;
        }
    }

    public override bool Write(TextWriter writer, bool writeHeader)
    {
        bool wrote = false;
        foreach (var (tags, series) in _series.Snapshot())
        {
            if (IsObservable && series.Collection != Collection)
            {
                _series.Remove(tags);
                continue;
            }

            if (!wrote && writeHeader)
            {
                WriteHeader(writer);
            }

            wrote = true;
            writer.Write(Name);
            writer.Write(tags.Labels);
            writer.Write(' ');
            if (_integral)
            {
                PrometheusText.WriteValue(writer, series.LongValue);
            }
            else
            {
                PrometheusText.WriteValue(writer, series.DoubleValue);
            }

            writer.Write('\n');
        }

        return wrote;
    }
}

/// <summary>One counter or gauge series. Integer instruments use the <see cref="long"/> slot, others the double.</summary>
internal sealed class ScalarSeries
{
    private long _long;
    private double _double;
    private long _collection;

    public long LongValue => Interlocked.Read(ref _long);

    public double DoubleValue => Volatile.Read(ref _double);

    /// <summary>The collection that last set this series (observable instruments only).</summary>
    public long Collection => Volatile.Read(ref _collection);

    public void Add(long value) => Interlocked.Add(ref _long, value);

    public void Add(double value) => InterlockedDouble.Add(ref _double, value);

    public void Set(long value, long collection)
    {
        Interlocked.Exchange(ref _long, value);
        Volatile.Write(ref _collection, collection);
    }

    public void Set(double value, long collection)
    {
        Interlocked.Exchange(ref _double, value);
        Volatile.Write(ref _collection, collection);
    }
}
