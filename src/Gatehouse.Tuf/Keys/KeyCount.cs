namespace Gatehouse.Tuf.Keys;

/// <summary>How messages count keys, in agreement with their number: <c>1 root key</c>, <c>2 root keys</c>.</summary>
internal static class KeyCount
{
    /// <summary><paramref name="count"/> keys, of <paramref name="role"/> when given: <c>1 key</c>, <c>2 root keys</c>.</summary>
    public static string Of(int count, string? role = null)
    {
        var noun = role is null ? "key" : $"{role} key";
        return count == 1 ? $"1 {noun}" : $"{count} {noun}s";
    }
}
