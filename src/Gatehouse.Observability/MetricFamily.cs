using System.Diagnostics.Metrics;

namespace Gatehouse.Observability;

/// <summary>
/// What the exporter keeps for one instrument: its Prometheus name and type and the state of each of its series.
/// Measurements arrive on any thread; <see cref="Write"/> runs under the exporter's collection lock.
/// </summary>
internal abstract class MetricFamily
{
    protected MetricFamily(Instrument instrument, string name, long sequence)
    {
        Name = name;
        MeterName = instrument.Meter.Name;
        InstrumentName = instrument.Name;
        Sequence = sequence;
        Help = string.IsNullOrEmpty(instrument.Description) ? null : PrometheusText.EscapeHelp(instrument.Description);
        IsObservable = instrument.IsObservable;
    }

    /// <summary>The name on the <c># TYPE</c> line: sanitised, with <c>_total</c> for counters.</summary>
    public string Name { get; }

    public string MeterName { get; }

    public string InstrumentName { get; }

    /// <summary>Order of publication, the last tie-breaker for a stable output order.</summary>
    public long Sequence { get; }

    /// <summary>The escaped description, or null when the instrument has none.</summary>
    public string? Help { get; }

    /// <summary><c>counter</c>, <c>gauge</c> or <c>histogram</c>.</summary>
    public abstract string TypeName { get; }

    public bool IsObservable { get; }

    /// <summary>
    /// Observable instruments report their current series on every collection; a series not reported in the
    /// latest one is gone (a closed connection, a removed peer) and is dropped rather than shown stale forever.
    /// </summary>
    protected long Collection { get; private set; }

    /// <summary>Starts a collection of an observable instrument; called under the exporter's collection lock.</summary>
    public void BeginCollection() => Collection++;

    public abstract void Record(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags);

    public abstract void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags);

    /// <summary>Writes the series, preceded by <c># HELP</c> and <c># TYPE</c> when <paramref name="writeHeader"/>.</summary>
    /// <returns>Whether there was any series to write.</returns>
    public abstract bool Write(TextWriter writer, bool writeHeader);

    protected void WriteHeader(TextWriter writer)
    {
        if (Help is not null)
        {
            writer.Write("# HELP ");
            writer.Write(Name);
            writer.Write(' ');
            writer.Write(Help);
            writer.Write('\n');
        }

        writer.Write("# TYPE ");
        writer.Write(Name);
        writer.Write(' ');
        writer.Write(TypeName);
        writer.Write('\n');
    }
}
