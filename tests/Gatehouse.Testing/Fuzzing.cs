using System.Globalization;

namespace Gatehouse.Testing;

/// <summary>
/// The generated inputs of the fuzz-style tests. Each test has a fixed seed and count, so that CI runs the same
/// inputs every time and a failure reproduces; <c>GATEHOUSE_FUZZ_SEED</c> and <c>GATEHOUSE_FUZZ_SCALE</c> explore
/// further (docs/testing.md, "Fuzzing further"), and every failure message names the seed it ran with.
/// </summary>
public static class Fuzzing
{
    /// <summary>The trait that marks a fuzz test: <c>--filter Category=Fuzz</c> runs them all.</summary>
    public const string Trait = "Category";

    /// <summary>The value of <see cref="Trait"/> on a fuzz test.</summary>
    public const string Category = "Fuzz";

    /// <summary>The variable that replaces every fuzz test's own seed.</summary>
    public const string SeedVariable = "GATEHOUSE_FUZZ_SEED";

    /// <summary>The variable that multiplies every fuzz test's number of inputs.</summary>
    public const string ScaleVariable = "GATEHOUSE_FUZZ_SCALE";

    /// <summary>The seed a test runs with: <c>GATEHOUSE_FUZZ_SEED</c> when set, else <paramref name="fixedSeed"/>.</summary>
    public static int Seed(int fixedSeed) => Whole(SeedVariable, fixedSeed, min: int.MinValue);

    /// <summary>How many inputs a test generates: <paramref name="count"/> times <c>GATEHOUSE_FUZZ_SCALE</c> (1 unless set).</summary>
    public static int Inputs(int count) => checked(count * Whole(ScaleVariable, 1, min: 1));

    /// <summary>What a failure message says so that it can be run again: <c>seed 20261122</c>.</summary>
    public static string Describe(int seed) => string.Create(CultureInfo.InvariantCulture, $"seed {seed} (set {SeedVariable}={seed} to run these inputs again)");

    private static int Whole(string variable, int fallback, int min)
    {
        var text = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min
            ? value
            : throw new InvalidOperationException($"{variable} is '{text}': it must be a whole number{(min > 0 ? $" of at least {min}" : string.Empty)}.");
    }
}
