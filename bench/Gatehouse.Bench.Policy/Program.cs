using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Running;
using Gatehouse.Bench.Policy;
using Gatehouse.Policy.Compilation;

// Compile time and memory first (one process, forced collections), then Decide under BenchmarkDotNet.
var source = PolicyWorkload.Source();
var before = GC.GetTotalMemory(forceFullCollection: true);
var clock = Stopwatch.StartNew();
var result = PolicyCompiler.Compile(source);
var compileTime = clock.Elapsed;
var after = GC.GetTotalMemory(forceFullCollection: true);
var policy = result.Policy ?? throw new InvalidOperationException(result.Error?.ToString());
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"compile ({policy.RuleCount:N0} rules, {policy.CategorisedDomainCount:N0} categorised domains): {compileTime.TotalMilliseconds:N0} ms, compiled policy holds {(after - before) / 1048576.0:N1} MiB managed"));
GC.KeepAlive(policy);
source = null;
policy = null;

var summary = BenchmarkSwitcher.FromAssembly(typeof(DecideBenchmarks).Assembly).Run(args);
foreach (var s in summary)
{
    foreach (var report in s.Reports)
    {
        var mean = report.ResultStatistics?.Mean ?? double.NaN;
        var allocated = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) ?? -1;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{report.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo} (100k rules, 1M domains) mean {mean:N0} ns, allocated {allocated} B"));
    }
}
