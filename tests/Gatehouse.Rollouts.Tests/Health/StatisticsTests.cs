using Gatehouse.Rollouts.Health;

namespace Gatehouse.Rollouts.Tests.Health;

public sealed class StatisticsTests
{
    [Theory]
    [InlineData(0, 10, 0.0)]
    [InlineData(5, 10, 0.2366)]
    [InlineData(1, 1000, 0.0002)]
    [InlineData(2, 2, 0.3424)]
    public void The_wilson_lower_bound_matches_the_formula(int failures, int trials, double expected)
    {
        Assert.Equal(expected, Statistics.WilsonLowerBound(failures, trials), 4);
    }

    [Fact]
    public void The_normal_tail_is_accurate()
    {
        Assert.Equal(0.025, Statistics.UpperTail(1.959963984540054), 6);
        Assert.Equal(0.5, Statistics.UpperTail(0), 6);
        Assert.Equal(0.9986501, Statistics.UpperTail(-3), 6);
    }

    [Fact]
    public void Mann_whitney_finds_a_candidate_that_is_entirely_worse()
    {
        // U = 25 of 25; z = (25 - 12.5 - 0.5) / sqrt(25 * 11 / 12) = 2.5067; p = 0.0061.
        Assert.Equal(0.0061, Statistics.MannWhitneyGreater([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]), 4);
        Assert.True(Statistics.MannWhitneyGreater([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) > 0.99);
    }

    [Fact]
    public void Mann_whitney_sees_no_difference_between_samples_of_one_distribution()
    {
        var random = new Random(7);
        var a = Enumerable.Range(0, 400).Select(_ => (double)Poisson(random, 0.3)).ToList();
        var b = Enumerable.Range(0, 400).Select(_ => (double)Poisson(random, 0.3)).ToList();

        Assert.InRange(Statistics.MannWhitneyGreater(a, b), 0.01, 1);
        Assert.Equal(1, Statistics.MannWhitneyGreater([0, 0, 0], [0, 0, 0]));
        Assert.Equal(1, Statistics.MannWhitneyGreater([], [1]));
    }

    [Fact]
    public void Mann_whitney_finds_more_restarts_among_heavily_tied_counts()
    {
        var random = new Random(11);
        var baseline = Enumerable.Range(0, 300).Select(_ => (double)Poisson(random, 0.2)).ToList();
        var candidate = Enumerable.Range(0, 300).Select(_ => (double)Poisson(random, 0.6)).ToList();

        Assert.True(Statistics.MannWhitneyGreater(candidate, baseline) < 0.001);
    }

    private static int Poisson(Random random, double lambda)
    {
        var limit = Math.Exp(-lambda);
        var k = 0;
        for (var p = random.NextDouble(); p > limit; p *= random.NextDouble())
        {
            k++;
        }

        return k;
    }
}
