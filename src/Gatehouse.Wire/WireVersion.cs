namespace Gatehouse.Wire;

/// <summary>The version of the wire contract every role speaks.</summary>
public static class WireVersion
{
    /// <summary>The REST API's path prefix.</summary>
    public const string ApiPrefix = "/api/v1";
}
