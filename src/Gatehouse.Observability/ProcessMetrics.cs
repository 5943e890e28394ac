using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Gatehouse.Observability;

/// <summary>
/// The process metrics that Prometheus client libraries conventionally expose, under their conventional names,
/// so that the usual dashboards and alerts work against every Gatehouse role.
/// </summary>
public static class ProcessMetrics
{
    /// <summary>
    /// Creates, on <paramref name="meter"/>, the observable instruments <c>process_resident_memory_bytes</c>,
    /// <c>process_cpu_seconds_total</c> (a counter), <c>process_start_time_seconds</c>,
    /// <c>dotnet_gc_heap_bytes</c>, <c>dotnet_gc_allocated_bytes_total</c>, <c>dotnet_gc_collections_total</c> (by
    /// generation), <c>process_threads</c>, and on Linux <c>process_open_fds</c> and <c>process_max_fds</c> (a server
    /// at its descriptor limit refuses connections: alert on their ratio). Call it once per meter.
    /// </summary>
    /// <param name="meter">The meter that owns the instruments; export it to see them.</param>
    public static void Register(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);

        double startTimeSeconds;
        using (var process = Process.GetCurrentProcess())
        {
            startTimeSeconds = new DateTimeOffset(process.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0;
        }

        meter.CreateObservableGauge(
            "process_resident_memory_bytes",
            static () => Environment.WorkingSet,
            unit: "By",
            description: "Resident memory size in bytes.");

        // Environment.CpuUsage is what Process.TotalProcessorTime reports, without creating a Process per scrape.
        meter.CreateObservableCounter(
            "process_cpu_seconds_total",
            static () => Environment.CpuUsage.TotalTime.TotalSeconds,
            unit: "s",
            description: "Total user and system CPU time spent in seconds.");

        meter.CreateObservableGauge(
            "process_start_time_seconds",
            () => startTimeSeconds,
            unit: "s",
            description: "Start time of the process since unix epoch in seconds.");

        meter.CreateObservableGauge(
            "dotnet_gc_heap_bytes",
            // GC.GetTotalMemory read -196,712 once in a full test run (a transient of the runtime's own
            // accounting); a gauge of heap bytes is never negative, so the size at the last GC stands in.
            static () => Math.Max(GC.GetTotalMemory(forceFullCollection: false), GC.GetGCMemoryInfo().HeapSizeBytes),
            unit: "By",
            description: "Bytes currently thought to be allocated on the managed heap.");

        // What the data path allocates shows as the rate of this counter (bytes per request is its rate over the
        // requests' rate); the collections it causes as the next one's.
        meter.CreateObservableCounter(
            "dotnet_gc_allocated_bytes_total",
            static () => GC.GetTotalAllocatedBytes(precise: false),
            unit: "By",
            description: "Bytes allocated on the managed heap since the process started.");

        meter.CreateObservableCounter(
            "dotnet_gc_collections_total",
            static () => new[]
            {
                new Measurement<long>(GC.CollectionCount(0), new KeyValuePair<string, object?>("generation", "0")),
                new Measurement<long>(GC.CollectionCount(1), new KeyValuePair<string, object?>("generation", "1")),
                new Measurement<long>(GC.CollectionCount(2), new KeyValuePair<string, object?>("generation", "2")),
            },
            unit: "{collection}",
            description: "Garbage collections since the process started, by generation (a collection of generation 1 also collects 0).");

        meter.CreateObservableGauge(
            "process_threads",
            static () =>
            {
                using var process = Process.GetCurrentProcess();
                return process.Threads.Count;
            },
            unit: "{thread}",
            description: "Number of OS threads in the process.");

        meter.CreateObservableGauge(
            "process_open_fds",
            static () => OpenDescriptors() is { } open ? [new Measurement<long>(open)] : Array.Empty<Measurement<long>>(),
            unit: "{descriptor}",
            description: "Number of open file descriptors.");

        meter.CreateObservableGauge(
            "process_max_fds",
            static () => DescriptorLimit() is { } limit ? [new Measurement<long>(limit)] : Array.Empty<Measurement<long>>(),
            unit: "{descriptor}",
            description: "Maximum number of open file descriptors.");
    }

    /// <summary>How many descriptors the process holds (the entries of <c>/proc/self/fd</c>); null where there is no such directory.</summary>
    public static long? OpenDescriptors()
    {
        try
        {
            // The listing's own descriptor is among them, as in other Prometheus clients.
            return Directory.EnumerateFileSystemEntries("/proc/self/fd").LongCount();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The process's soft limit on descriptors (<c>Max open files</c> in <c>/proc/self/limits</c>); null where unknown or unlimited.</summary>
    public static long? DescriptorLimit()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                    return long.TryParse(soft, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var limit) ? limit : null;
                }
            }

            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
