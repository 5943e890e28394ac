using BenchmarkDotNet.Attributes;
using Gatehouse.Policy.Compilation;
using Gatehouse.Policy.Decisions;

namespace Gatehouse.Bench.Policy;

/// <summary>Decide over 100,000 rules and 1,000,000 categorised domains.</summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 5)]
public class DecideBenchmarks
{
    private CompiledPolicy policy = null!;
    private FlowContext deepHost;
    private FlowContext noMatch;
    private FlowContext ipFlow;
    private FlowContext categoryHit;

    [GlobalSetup]
    public void Setup()
    {
        var source = PolicyWorkload.Source();
        policy = PolicyCompiler.Compile(source).Policy!;
        deepHost = PolicyWorkload.Flow("Deep.Target.Example");
        noMatch = PolicyWorkload.Flow("www.nothing-matches.example.net");
        ipFlow = PolicyWorkload.Flow(null, "172.16.99.42");
        categoryHit = PolicyWorkload.Flow("www." + source.Categories["category-07"][1234]);
        Check(deepHost, PolicyWorkload.DeepRule);
        Check(noMatch, -1);
        Check(ipFlow, PolicyWorkload.DeepCidrRule);
        if (policy.Decide(categoryHit).Category != "category-07")
        {
            throw new InvalidOperationException("The category flow is not categorised.");
        }
    }

    [Benchmark(Description = "decide: host matching rule 99,000")]
    public Decision DeepHost() => policy.Decide(deepHost);

    [Benchmark(Description = "decide: host matching nothing")]
    public Decision NoMatch() => policy.Decide(noMatch);

    [Benchmark(Description = "decide: IP flow matching rule 97,003")]
    public Decision IpFlow() => policy.Decide(ipFlow);

    [Benchmark(Description = "decide: categorised host")]
    public Decision CategoryHit() => policy.Decide(categoryHit);

    private void Check(FlowContext flow, int rule)
    {
        var decided = policy.Decide(flow).RuleIndex;
        if (decided != rule)
        {
            throw new InvalidOperationException($"Expected rule {rule}, decided {decided}.");
        }
    }
}
