using Gatehouse.Edge.Hosting;

namespace Gatehouse.Edge.Tests.Hosting;

public sealed class QuantitiesTests
{
    [Theory]
    [InlineData("1048576", 1048576L)]
    [InlineData("512KiB", 524288L)]
    [InlineData("64M", 67108864L)]
    [InlineData("1gib", 1073741824L)]
    [InlineData(" 32 KiB ", 32768L)]
    public void Sizes_parse_in_binary_units(string text, long bytes)
    {
        Assert.True(Quantities.TryParseSize(text, out var parsed));
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("KiB")]
    [InlineData("1.5MiB")]
    [InlineData("-1")]
    [InlineData("10MB")]
    [InlineData("99999999999GiB")]
    public void Not_sizes(string text) => Assert.False(Quantities.TryParseSize(text, out _));

    [Theory]
    [InlineData("500ms", 500L)]
    [InlineData("10s", 10_000L)]
    [InlineData("5m", 300_000L)]
    [InlineData("2H", 7_200_000L)]
    [InlineData("1d", 86_400_000L)]
    [InlineData(" 30 s ", 30_000L)]
    public void Durations_parse_with_their_unit(string text, long milliseconds)
    {
        Assert.True(Quantities.TryParseDuration(text, out var parsed));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("10")]
    [InlineData("s")]
    [InlineData("1.5s")]
    [InlineData("-1s")]
    [InlineData("1w")]
    [InlineData("9999999999s")]
    [InlineData("99999999d")]
    public void Not_durations(string text) => Assert.False(Quantities.TryParseDuration(text, out _));

    [Theory]
    [InlineData(10_000L, "10s")]
    [InlineData(60_000L, "1m")]
    [InlineData(300_000L, "5m")]
    [InlineData(7_200_000L, "2h")]
    [InlineData(86_400_000L, "1d")]
    [InlineData(1_500L, "1500ms")]
    [InlineData(0L, "0s")]
    public void Durations_are_written_as_they_would_be_given(long milliseconds, string text)
    {
        Assert.Equal(text, Quantities.FormatDuration(TimeSpan.FromMilliseconds(milliseconds)));
        Assert.True(Quantities.TryParseDuration(text, out var back));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), back);
    }

    [Theory]
    [InlineData(32_768L, "32KiB")]
    [InlineData(67_108_864L, "64MiB")]
    [InlineData(1_073_741_824L, "1GiB")]
    [InlineData(1000L, "1000")]
    public void Sizes_are_written_as_they_would_be_given(long bytes, string text)
    {
        Assert.Equal(text, Quantities.FormatSize(bytes));
        Assert.True(Quantities.TryParseSize(text, out var back));
        Assert.Equal(bytes, back);
    }
}
