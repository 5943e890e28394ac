using System.Net;
using System.Text.Json.Nodes;

namespace Gatehouse.Cli.Connection;

/// <summary>An answer of the portal, typed for tables and as received for <c>--json</c>.</summary>
/// <param name="Value">The answer, typed.</param>
/// <param name="Json">The answer as received.</param>
/// <param name="Status">
/// The success status it came with, where that says something: <c>201</c> for a change made, <c>200</c> for the same
/// change again that changed nothing. Listings assembled from pages say <c>200</c>.
/// </param>
internal sealed record ApiResult<T>(T Value, JsonNode? Json, HttpStatusCode Status = HttpStatusCode.OK);
