namespace Gatehouse.Updates;

/// <summary>An update step failed; the version in force stays in force.</summary>
public sealed class UpdateException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why.</param>
    /// <param name="isTransient">Whether trying again later may succeed (a full disk, a network error).</param>
    /// <param name="inner">The underlying error.</param>
    public UpdateException(string message, bool isTransient = false, Exception? inner = null)
        : base(message, inner)
    {
        IsTransient = isTransient;
    }

    /// <summary>Whether trying again later may succeed.</summary>
    public bool IsTransient { get; }
}
