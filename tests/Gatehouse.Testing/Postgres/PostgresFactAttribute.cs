namespace Gatehouse.Testing.Postgres;

/// <summary>
/// A <see cref="FactAttribute"/> that is skipped, with a reason saying how to fix it, when no
/// PostgreSQL server binaries are installed, unless <c>GATEHOUSE_REQUIRE_POSTGRES=1</c> makes
/// their absence a failure.
/// </summary>
/// <remarks>xunit 2 cannot skip a test once it runs, so the decision is made when tests are discovered.</remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class PostgresFactAttribute : FactAttribute
{
    /// <summary>Marks a test that needs a real PostgreSQL server.</summary>
    public PostgresFactAttribute()
    {
        Skip = PostgresAvailability.SkipReason;
    }
}

/// <summary>The <see cref="TheoryAttribute"/> counterpart of <see cref="PostgresFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class PostgresTheoryAttribute : TheoryAttribute
{
    /// <summary>Marks a data-driven test that needs a real PostgreSQL server.</summary>
    public PostgresTheoryAttribute()
    {
        Skip = PostgresAvailability.SkipReason;
    }
}
