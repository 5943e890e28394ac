namespace Gatehouse.Content;

/// <summary>Content was refused: it does not parse, or it is not what this build reads.</summary>
public sealed class ContentException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why, naming the place in the content.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public ContentException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
