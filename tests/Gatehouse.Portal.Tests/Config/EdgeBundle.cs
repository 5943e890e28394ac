using System.Text.Json.Nodes;
using Gatehouse.Testing;

namespace Gatehouse.Portal.Tests.Config;

/// <summary>Reads the edge bundle the way an edge does, with its own certificate.</summary>
public static class EdgeBundle
{
    /// <summary>Polls the edge bundle until <paramref name="done"/> holds for its body; fails after the default timeout.</summary>
    public static async Task<JsonNode> WaitForBodyAsync(HttpClient edgeClient, Func<JsonNode, bool> done, string because)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (true)
        {
            var body = JsonNode.Parse(await edgeClient.GetByteArrayAsync("config/edge?wait=0"))!["signed"]!["body"]!;
            if (done(body))
            {
                return body;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The edge bundle never showed that {because}: {body.ToJsonString()}");
            await Task.Delay(50);
        }
    }
}
