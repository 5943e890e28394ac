namespace Gatehouse.Observability.Tests;

/// <summary>The checker the exporter tests rely on must itself be able to say no.</summary>
public class ExpositionTests
{
    [Theory]
    [InlineData("# TYPE a counter\na\n")]
    [InlineData("# TYPE a counter\na 1 2 3\n")]
    [InlineData("# TYPE a counter\na{b=\"c} 1\n")]
    [InlineData("# TYPE a counter\na{b=\"c\\\"} 1\n")]
    [InlineData("# TYPE a counter\na{1b=\"c\"} 1\n")]
    [InlineData("# TYPE a.b counter\na.b 1\n")]
    [InlineData("b 1\n")]
    [InlineData("# TYPE a counter\n# TYPE a counter\na 1\n")]
    [InlineData("# TYPE a counter\na 1\na 2\n")]
    [InlineData("# TYPE a counter\na 1")]
    [InlineData("# TYPE a gauge\na_bucket{le=\"1\"} 1\n")]
    public void Checker_rejects_text_a_scraper_would_refuse(string text) =>
        Assert.ThrowsAny<Exception>(() => Exposition.Parse(text));

    [Fact]
    public void Checker_accepts_valid_text_and_reads_its_values()
    {
        var samples = Exposition.Parse(
            "# HELP a Requests \\\\ \\n.\n# TYPE a counter\na{b=\"x\\\"y\\\\\\n\",c=\"\"} 1.5e3\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum NaN\nh_count 2\n# a comment\n");

        Assert.Equal(1500, samples["a{b=\"x\\\"y\\\\\\n\",c=\"\"}"]);
        Assert.Equal(2, samples["h_count"]);
        Assert.True(double.IsNaN(samples["h_sum"]));
    }
}
