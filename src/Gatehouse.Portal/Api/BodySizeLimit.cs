using Microsoft.AspNetCore.Http.Metadata;

namespace Gatehouse.Portal.Api;

/// <summary>
/// Endpoint metadata that raises (or lowers) the request body limit for one route; the routing middleware
/// applies it before the body is read. Larger bodies get 413 like every other route.
/// </summary>
/// <param name="bytes">The largest body the route accepts.</param>
public sealed class BodySizeLimit(long bytes) : IRequestSizeLimitMetadata
{
    /// <inheritdoc />
    public long? MaxRequestBodySize { get; } = bytes;
}
