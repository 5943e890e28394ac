using Gatehouse.Policy.Decisions;

namespace Gatehouse.Policy.Compilation;

/// <summary>Why a policy does not compile: where (rule index and name, or the object at fault), which field, and why.</summary>
/// <param name="RuleIndex">The index of the rule at fault, or -1 when the fault is in a category, app segment or user.</param>
/// <param name="RuleName">The rule's name, or null.</param>
/// <param name="Field">The field at fault (<c>criteria.cidrs[2]</c>, <c>categories.news[10]</c>, <c>appSegments[1].ports[0]</c>).</param>
/// <param name="Reason">What is wrong, in plain words.</param>
public sealed record CompileError(int RuleIndex, string? RuleName, string Field, string Reason)
{
    /// <summary>One line for logs and the portal: <c>rule 3 'block-gambling': criteria.categories[0]: no URL category named 'gamblng'</c>.</summary>
    public override string ToString() =>
        RuleIndex >= 0 ? $"rule {RuleIndex} '{RuleName}': {Field}: {Reason}" : $"{Field}: {Reason}";
}

/// <summary>The outcome of <see cref="PolicyCompiler.Compile"/>: a compiled policy, or the first error.</summary>
public readonly record struct CompileResult
{
    private CompileResult(CompiledPolicy? policy, CompileError? error, TimeSpan elapsed)
    {
        Policy = policy;
        Error = error;
        Elapsed = elapsed;
    }

    /// <summary>The compiled policy when compilation succeeded.</summary>
    public CompiledPolicy? Policy { get; }

    /// <summary>The first error when it failed.</summary>
    public CompileError? Error { get; }

    /// <summary>How long compilation took.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>True when <see cref="Policy"/> is set.</summary>
    public bool Succeeded => Policy is not null;

    /// <summary>A success.</summary>
    public static CompileResult Success(CompiledPolicy policy, TimeSpan elapsed) => new(policy, null, elapsed);

    /// <summary>A failure.</summary>
    public static CompileResult Failure(CompileError error, TimeSpan elapsed) => new(null, error, elapsed);
}
