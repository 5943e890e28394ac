namespace Gatehouse.Rollouts.Health;

/// <summary>The two tests a stage is judged by: a confidence bound on a failure rate, and Mann–Whitney U.</summary>
public static class Statistics
{
    /// <summary>
    /// The lower bound of the 95% Wilson score interval of <paramref name="failures"/> in
    /// <paramref name="trials"/>: a rate the true one exceeds with 97.5% confidence, which makes a
    /// small sample with many failures enough to act on, and a small sample with one not.
    /// </summary>
    /// <param name="failures">Failures.</param>
    /// <param name="trials">Trials.</param>
    /// <returns>The bound, 0 when there are no trials.</returns>
    public static double WilsonLowerBound(int failures, int trials)
    {
        if (trials <= 0)
        {
            return 0;
        }

        const double z = 1.959963984540054;
        double n = trials;
        var p = failures / n;
        var centre = p + (z * z / (2 * n));
        var spread = z * Math.Sqrt((p * (1 - p) / n) + (z * z / (4 * n * n)));
        return Math.Max(0, (centre - spread) / (1 + (z * z / n)));
    }

    /// <summary>
    /// The one-sided p-value that <paramref name="candidate"/> tends to be greater (less healthy)
    /// than <paramref name="baseline"/>: Mann–Whitney U with the normal approximation, tie
    /// correction and continuity correction. Needs no assumption about the metric's distribution,
    /// which for restarts is far from normal.
    /// </summary>
    /// <param name="candidate">Values of devices on the new version.</param>
    /// <param name="baseline">Values of devices on the old version.</param>
    /// <returns>The p-value; 1 when either sample is empty.</returns>
    public static double MannWhitneyGreater(IReadOnlyList<double> candidate, IReadOnlyList<double> baseline)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(baseline);
        int n1 = candidate.Count, n2 = baseline.Count;
        if (n1 == 0 || n2 == 0)
        {
            return 1;
        }

        var all = new (double Value, bool Candidate)[n1 + n2];
        for (var i = 0; i < n1; i++)
        {
            all[i] = (candidate[i], true);
        }

        for (var i = 0; i < n2; i++)
        {
            all[n1 + i] = (baseline[i], false);
        }

        Array.Sort(all, static (a, b) => a.Value.CompareTo(b.Value));
        double candidateRanks = 0, tieTerm = 0;
        var n = all.Length;
        for (var start = 0; start < n;)
        {
            var end = start;
            while (end + 1 < n && all[end + 1].Value == all[start].Value)
            {
                end++;
            }

            // Ranks are 1-based; tied values share the average of their ranks.
            var rank = (start + end + 2) / 2.0;
            double tied = end - start + 1;
            tieTerm += (tied * tied * tied) - tied;
            for (var i = start; i <= end; i++)
            {
                if (all[i].Candidate)
                {
                    candidateRanks += rank;
                }
            }

            start = end + 1;
        }

        var u = candidateRanks - (n1 * (n1 + 1) / 2.0);
        var mean = n1 * (double)n2 / 2;
        var variance = n1 * (double)n2 / 12 * ((n + 1) - (tieTerm / (n * (double)(n - 1))));
        if (variance <= 0)
        {
            return 1; // every value equal: no evidence either way
        }

        var z = (u - mean - 0.5) / Math.Sqrt(variance);
        return UpperTail(z);
    }

    /// <summary>P(Z &gt; z) for a standard normal Z.</summary>
    /// <param name="z">The value.</param>
    /// <returns>The upper tail probability.</returns>
    public static double UpperTail(double z) => 0.5 * Erfc(z / Math.Sqrt(2));

    // Complementary error function (Numerical Recipes' erfcc, fractional error below 1.2e-7).
    private static double Erfc(double x)
    {
        var z = Math.Abs(x);
        var t = 1 / (1 + (0.5 * z));
        double[] coefficients = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277];
        var polynomial = 0.0;
        for (var i = coefficients.Length - 1; i >= 0; i--)
        {
            polynomial = (polynomial * t) + coefficients[i];
        }

        var r = t * Math.Exp((-z * z) + polynomial);
        return x >= 0 ? r : 2 - r;
    }
}
