namespace Gatehouse.Content;

/// <summary>Content was refused: it does not parse, or it is not what this build reads.</summary>
public sealed class ContentException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why, naming the place in the content.</param>
    /// <param name="field">The one place at fault as a path into the content (<c>records[3][1]</c>), if there is one.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public ContentException(string message, string? field = null, Exception? inner = null)
        : base(message, inner)
    {
        Field = field;
    }

    /// <summary>The one place at fault as a path into the content (<c>schemaVersion</c>, <c>records[3][1]</c>), or null for the whole file.</summary>
    public string? Field { get; }
}
