using System.Diagnostics.Metrics;

namespace Gatehouse.Observability.Tests;

public class ProcessMetricsTests
{
    [Fact]
    public void Registered_process_metrics_are_exported_under_their_conventional_names()
    {
        using var meter = new Meter("Gatehouse.Tests.Process." + Guid.NewGuid().ToString("N"));
        using var exporter = new PrometheusExporter(meter.Name);

        ProcessMetrics.Register(meter);
        var allocatedBefore = GC.GetTotalAllocatedBytes();
        GC.Collect(0);
        var (gen0Before, gen1Before, gen2Before) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        string text = exporter.Render();

        var samples = Exposition.Parse(text);
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["dotnet_gc_allocated_bytes_total"] = "counter",
                ["dotnet_gc_collections_total"] = "counter",
                ["dotnet_gc_heap_bytes"] = "gauge",
                ["process_cpu_seconds_total"] = "counter",
                ["process_max_fds"] = "gauge",
                ["process_open_fds"] = "gauge",
                ["process_resident_memory_bytes"] = "gauge",
                ["process_start_time_seconds"] = "gauge",
                ["process_threads"] = "gauge",
            },
            Exposition.Types(text));
        Assert.InRange(samples["process_resident_memory_bytes"], 1 << 20, double.MaxValue);
        Assert.InRange(samples["dotnet_gc_heap_bytes"], 1, double.MaxValue);
        Assert.InRange(samples["process_cpu_seconds_total"], 0.001, double.MaxValue);
        Assert.InRange(samples["process_threads"], 1, 10_000);
        Assert.InRange(samples["dotnet_gc_allocated_bytes_total"], allocatedBefore, GC.GetTotalAllocatedBytes());
        Assert.InRange(samples["dotnet_gc_collections_total{generation=\"0\"}"], gen0Before, GC.CollectionCount(0));
        Assert.InRange(samples["dotnet_gc_collections_total{generation=\"1\"}"], gen1Before, GC.CollectionCount(1));
        Assert.InRange(samples["dotnet_gc_collections_total{generation=\"2\"}"], gen2Before, GC.CollectionCount(2));
        Assert.InRange(samples["process_open_fds"], 3, samples["process_max_fds"]);
        double now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.InRange(samples["process_start_time_seconds"], now - 3600, now + 1);
    }

    [Fact]
    public void Open_descriptors_count_the_ones_this_process_opens_and_the_limit_is_the_soft_one()
    {
        var before = ProcessMetrics.OpenDescriptors();
        var files = Enumerable.Range(0, 20).Select(_ => File.OpenRead("/proc/self/status")).ToList();
        try
        {
            // Other tests open and close descriptors meanwhile: at least most of these twenty show.
            Assert.InRange(ProcessMetrics.OpenDescriptors()!.Value, before!.Value + 10, long.MaxValue);
        }
        finally
        {
            files.ForEach(f => f.Dispose());
        }

        var limits = File.ReadAllLines("/proc/self/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        Assert.Equal(limits.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3], ProcessMetrics.DescriptorLimit()!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
