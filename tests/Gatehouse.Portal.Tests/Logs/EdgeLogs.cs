using System.Net.Http.Json;
using Gatehouse.Portal.Tests.Enrollment;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Portal.Tests.Logs;

/// <summary>Transaction log records as an enrolled edge writes them, and the batches it ships.</summary>
public static class EdgeLogs
{
    /// <summary>A valid record of <paramref name="edge"/>'s tenant; change what a test is about with <c>with</c>.</summary>
    public static TransactionLogRecord Record(Enrollee edge, DateTimeOffset time, string host = "www.example.com", string action = TransactionActions.Allow) => new(
        time,
        edge.Response.TenantId.ToString(),
        edge.Response.SubjectId.ToString(),
        TransactionKinds.Flow,
        TransactionListeners.Proxy,
        action,
        "127.0.0.1:51515",
        host,
        443,
        Method: "CONNECT",
        Rule: action == TransactionActions.Block ? "block-gambling" : null,
        BytesUp: 1200,
        BytesDown: 54000,
        DurationMs: 250);

    /// <summary>A plain-HTTP request through the forward proxy with every field such a record has.</summary>
    public static TransactionLogRecord HttpRecord(Enrollee edge, DateTimeOffset time) => Record(edge, time) with
    {
        Kind = TransactionKinds.Http,
        Listener = TransactionListeners.Proxy,
        UserEmail = "ana@example.test",
        UserId = Guid.NewGuid().ToString(),
        DestinationIp = "93.184.216.34",
        Method = "GET",
        Url = "http://www.example.com/index.html",
        Status = 200,
        Category = "news",
        Rule = "allow-news",
        ReferenceId = "r-1",
    };

    /// <summary>A tunnel flow a rule blocked, with its device, reason and TLS server name.</summary>
    public static TransactionLogRecord BlockedTunnelRecord(Enrollee edge, DateTimeOffset time) => Record(edge, time, "casino.example", TransactionActions.Block) with
    {
        Listener = TransactionListeners.Tunnel,
        DeviceId = Guid.NewGuid().ToString(),
        Reason = "blocked by policy",
        Sni = "www.casino.example",
    };

    /// <summary>Posts a batch with the certificate of <paramref name="sender"/> (an edge, or not).</summary>
    public static async Task<HttpResponseMessage> PostAsync(PortalServer portal, Enrollee sender, params TransactionLogRecord[] records)
    {
        using var client = sender.CreateClient(portal);
        // The client's base address is /api/v1/; the wire names the full path.
        return await client.PostAsJsonAsync(new Uri(portal.BaseAddress, TransactionLogBatch.Path), new TransactionLogBatch(records), PortalServer.Json);
    }

    /// <summary>Posts a batch that must be stored whole.</summary>
    public static async Task PostAcceptedAsync(PortalServer portal, Enrollee edge, params TransactionLogRecord[] records)
    {
        var response = await PostAsync(portal, edge, records);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        var result = await response.Content.ReadFromJsonAsync<TransactionLogBatchResult>(PortalServer.Json);
        Assert.Equal(records.Length, result!.Accepted);
    }
}
