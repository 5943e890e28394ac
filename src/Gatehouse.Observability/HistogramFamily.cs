using System.Diagnostics.Metrics;

namespace Gatehouse.Observability;

/// <summary>
/// A histogram: per series, a count per bucket, and the sum. <c>_count</c> is derived from the buckets so that it
/// always equals the <c>+Inf</c> bucket, even while measurements arrive during a scrape.
/// </summary>
internal sealed class HistogramFamily : MetricFamily
{
    private readonly double[] _bounds;
    private readonly string[] _bucketLabels;
    private readonly SeriesMap<HistogramSeries> _series;

    public HistogramFamily(Instrument instrument, string name, long sequence, double[] bounds)
        : base(instrument, name, sequence)
    {
        _bounds = bounds;
        _bucketLabels = new string[bounds.Length + 1];
        for (int i = 0; i < bounds.Length; i++)
        {
            _bucketLabels[i] = "le=\"" + PrometheusText.FormatDouble(bounds[i]) + "\"} ";
        }

        _bucketLabels[^1] = "le=\"+Inf\"} ";
        int bucketCount = bounds.Length + 1;
        _series = new SeriesMap<HistogramSeries>(_ => new HistogramSeries(bucketCount));
    }

    public override string TypeName => "histogram";

    public override void Record(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags) => Record((double)value, tags);

    public override void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        // A NaN has no bucket and would turn the sum into NaN for good.
        if (double.IsNaN(value))
        {
            return;
        }

        // Bucket i counts values in (bounds[i-1], bounds[i]]; an exact match belongs to its own bound (le = "<=").
        int bucket = Array.BinarySearch(_bounds, value);
        if (bucket < 0)
        {
            bucket = ~bucket;
        }

        _series.GetOrAdd(tags).Record(bucket, value);
    }

    public override bool Write(TextWriter writer, bool writeHeader)
    {
        var snapshot = _series.Snapshot();
        if (snapshot.Length == 0)
        {
            return false;
        }

        if (writeHeader)
        {
            WriteHeader(writer);
        }

        foreach (var (tags, series) in snapshot)
        {
            long cumulative = 0;
            for (int i = 0; i < _bucketLabels.Length; i++)
            {
                cumulative += series.BucketCount(i);
                writer.Write(Name);
                writer.Write("_bucket{");
                writer.Write(tags.LabelPrefix);
                writer.Write(_bucketLabels[i]);
                PrometheusText.WriteValue(writer, cumulative);
                writer.Write('\n');
            }

            writer.Write(Name);
            writer.Write("_sum");
            writer.Write(tags.Labels);
            writer.Write(' ');
            PrometheusText.WriteValue(writer, series.Sum);
            writer.Write('\n');

            writer.Write(Name);
            writer.Write("_count");
            writer.Write(tags.Labels);
            writer.Write(' ');
            PrometheusText.WriteValue(writer, cumulative);
            writer.Write('\n');
        }

        return true;
    }
}

/// <summary>One histogram series: non-cumulative bucket counts (the last is +Inf) and the sum, all lock-free.</summary>
internal sealed class HistogramSeries(int bucketCount)
{
    private readonly long[] _buckets = new long[bucketCount];
    private double _sum;

    public double Sum => Volatile.Read(ref _sum);

    public long BucketCount(int bucket) => Interlocked.Read(ref _buckets[bucket]);

    public void Record(int bucket, double value)
    {
        Interlocked.Increment(ref _buckets[bucket]);
        InterlockedDouble.Add(ref _sum, value);
    }
}
