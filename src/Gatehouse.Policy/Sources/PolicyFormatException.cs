namespace Gatehouse.Policy.Sources;

/// <summary>A bundle body whose policy part is not shaped as the portal writes it. Never transient: the same body fails again.</summary>
public sealed class PolicyFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PolicyFormatException()
        : this("$", "is malformed.")
    {
    }

    /// <summary>Creates the exception with a plain message.</summary>
    public PolicyFormatException(string message)
        : base(message)
    {
        Path = "$";
        Reason = message;
    }

    /// <summary>Creates the exception with a plain message and its cause.</summary>
    public PolicyFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Path = "$";
        Reason = message;
    }

    /// <summary>Creates the exception for the value at <paramref name="path"/>.</summary>
    public PolicyFormatException(string path, string reason, Exception? innerException = null)
        : base($"{path} {reason}", innerException)
    {
        Path = path;
        Reason = reason;
    }

    /// <summary>Where in the body (<c>policy[3].criteria</c>).</summary>
    public string Path { get; }

    /// <summary>What is wrong with it.</summary>
    public string Reason { get; }

    /// <summary>Always false: retrying with the same body fails the same way.</summary>
    public bool IsTransient => false;
}
