using System.Text.Json.Nodes;

namespace Gatehouse.Cli.Connection;

/// <summary>An answer of the portal, typed for tables and as received for <c>--json</c>.</summary>
internal sealed record ApiResult<T>(T Value, JsonNode? Json);
