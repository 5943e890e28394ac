namespace Gatehouse.Testing;

/// <summary>Bounds every wait in a test, as Kestrel's <c>DefaultTimeout()</c> does.</summary>
public static class TestTimeouts
{
    /// <summary>How long any single wait in a test may take before it fails.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(30);

    /// <summary>Fails the wait with <see cref="TimeoutException"/> after <see cref="Default"/>.</summary>
    public static Task<T> DefaultTimeout<T>(this Task<T> task) => task.WaitAsync(Default);

    /// <summary>Fails the wait with <see cref="TimeoutException"/> after <see cref="Default"/>.</summary>
    public static Task DefaultTimeout(this Task task) => task.WaitAsync(Default);
}
