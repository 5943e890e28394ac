using Gatehouse.Policy.Compilation;
using Gatehouse.Policy.Sources;

namespace Gatehouse.Policy.Decisions;

/// <summary>
/// Holds the policy in force. Readers take <see cref="Current"/> once per flow, so a swap never
/// changes a flow in progress; <see cref="TryUpdate"/> swaps only when the new source compiles,
/// so bad input changes nothing.
/// </summary>
public sealed class PolicyHolder
{
    private volatile CompiledPolicy current;

    /// <summary>Starts with <paramref name="initial"/>, or with the empty policy (every flow allowed by default).</summary>
    public PolicyHolder(CompiledPolicy? initial = null)
    {
        current = initial ?? PolicyCompiler.Compile(PolicySource.Empty).Policy!;
    }

    /// <summary>The policy in force; take it once per flow.</summary>
    public CompiledPolicy Current => current;

    /// <summary>Decides <paramref name="flow"/> with the policy in force.</summary>
    public Decision Decide(in FlowContext flow) => current.Decide(flow);

    /// <summary>Compiles <paramref name="source"/> and, only if that succeeds, puts it in force; on failure the previous policy stays.</summary>
    public CompileResult TryUpdate(PolicySource source)
    {
        var result = PolicyCompiler.Compile(source);
        if (result.Policy is { } policy)
        {
            current = policy;
        }

        return result;
    }
}
