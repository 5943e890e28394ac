namespace Gatehouse.Portal.Config;

/// <summary>A published, signed bundle as served from memory.</summary>
/// <param name="Version">The bundle version.</param>
/// <param name="Document">The signed document bytes (canonical JSON).</param>
/// <param name="BodySha256">Lowercase hex SHA-256 of the canonical body.</param>
public sealed record PublishedBundle(long Version, byte[] Document, string BodySha256)
{
    /// <summary>The entity tag: <c>"v{Version}"</c>.</summary>
    public string ETag { get; } = $"\"v{Version}\"";
}

/// <summary>
/// The current bundle of one tenant and consumer, and one shared signal that long-pollers wait on.
/// Publishing sets the new bundle first and then swaps and completes the signal, so a waiter that
/// reads the signal before the bundle never misses a change.
/// </summary>
public sealed class BundleSlot
{
    private PublishedBundle? _current;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The bundle in force, or null before the first publication.</summary>
    public PublishedBundle? Current => Volatile.Read(ref _current);

    /// <summary>Completes when a newer bundle is published.</summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    internal void Publish(PublishedBundle bundle)
    {
        Volatile.Write(ref _current, bundle);
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}
