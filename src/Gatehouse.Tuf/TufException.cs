namespace Gatehouse.Tuf;

/// <summary>Why a TUF operation failed; each names who is to blame.</summary>
public enum TufFailure
{
    /// <summary>Metadata is not well-formed JSON, or lacks or mistypes a field the specification requires.</summary>
    Malformed,

    /// <summary>Fewer valid signatures than the role's threshold.</summary>
    Unsigned,

    /// <summary>A version number is lower than the trusted one, or not the one the referring metadata names.</summary>
    Rollback,

    /// <summary>Metadata has expired (an indefinite-freeze attack, or a repository that stopped signing).</summary>
    Expired,

    /// <summary>A file's length or hashes differ from what signed metadata says.</summary>
    Mismatch,

    /// <summary>A file is longer than its limit (an endless-data attack).</summary>
    TooLarge,

    /// <summary>The repository does not have the file.</summary>
    NotFound,

    /// <summary>The target path is not in any targets metadata the client trusts.</summary>
    UnknownTarget,

    /// <summary>The repository could not be reached or answered with an error.</summary>
    Unreachable,

    /// <summary>The client was used out of order (a programming error) or its local state is unusable.</summary>
    State,
}

/// <summary>A TUF operation failed; nothing that failed verification is stored or returned.</summary>
public sealed class TufException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="failure">What kind of failure.</param>
    /// <param name="message">What went wrong, for people.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public TufException(TufFailure failure, string message, Exception? inner = null)
        : base(message, inner)
    {
        Failure = failure;
    }

    /// <summary>What kind of failure.</summary>
    public TufFailure Failure { get; }

    /// <summary>How long the repository asked the client to wait (<c>Retry-After</c>), when it did.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Whether trying again later may succeed without anyone changing anything.</summary>
    public bool IsTransient => Failure is TufFailure.Unreachable;
}
