namespace Gatehouse.Bench.Edge;

/// <summary>Percentiles of measured latencies.</summary>
internal static class Latencies
{
    /// <summary>The <paramref name="p"/> percentile (0 to 1) of <paramref name="sorted"/>, ascending; 0 when there is none.</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
