namespace Gatehouse.Node;

/// <summary>Who is to blame when a node cannot enroll, renew, or read its credentials.</summary>
public enum NodeErrorReason
{
    /// <summary>The portal refused the request (4xx): a bad token or key, a revoked certificate, bad input.</summary>
    Refused,

    /// <summary>The portal could not be reached, timed out, or answered 5xx; trying again later may work.</summary>
    Unavailable,

    /// <summary>The portal answered, but the answer fails the node's checks (wrong key, chain or identity).</summary>
    InvalidAnswer,

    /// <summary>The credential directory is incomplete or holds a file that cannot be read.</summary>
    CorruptStore,

    /// <summary>The credential directory holds no enrollment.</summary>
    NotEnrolled,

    /// <summary>The credential directory already holds an enrollment; log out (delete it) first.</summary>
    AlreadyEnrolled,
}

/// <summary>
/// The one exception of the node library: why an enrollment, renewal or credential read failed.
/// The message is a plain sentence that is safe to log; it never carries a token, key or certificate.
/// </summary>
public sealed class NodeException : Exception
{
    /// <summary>Creates an exception.</summary>
    /// <param name="reason">Who is to blame.</param>
    /// <param name="message">A plain sentence, safe to log.</param>
    /// <param name="statusCode">The portal's HTTP status, when it answered.</param>
    /// <param name="field">The request field the portal blamed, when it named one.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    public NodeException(NodeErrorReason reason, string message, int? statusCode = null, string? field = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
        StatusCode = statusCode;
        Field = field;
    }

    /// <summary>Who is to blame.</summary>
    public NodeErrorReason Reason { get; }

    /// <summary>The portal's HTTP status code, or <see langword="null"/> when it did not answer.</summary>
    public int? StatusCode { get; }

    /// <summary>The request field the portal's problem details named (<c>field</c>), if any.</summary>
    public string? Field { get; }

    /// <summary>Whether the same call may succeed later: only when the portal was unreachable, timed out or answered 5xx.</summary>
    public bool IsTransient => Reason == NodeErrorReason.Unavailable;
}
