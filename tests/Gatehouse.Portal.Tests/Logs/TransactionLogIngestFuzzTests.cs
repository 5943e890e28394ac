using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Portal.Logs;
using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tests.Api;
using Gatehouse.Portal.Tests.Enrollment;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Testing;
using Gatehouse.Testing.Json;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Logs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Portal.Tests.Logs;

/// <summary>Generated batches thrown at <c>POST /api/v1/edge/logs</c> with an edge's certificate.</summary>
public sealed class TransactionLogIngestFuzzTests : IAsyncLifetime
{
    private PortalServer _portal = null!;
    private HttpClient _admin = null!;
    private Enrollee _edge = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalServer.StartAsync();
        _admin = await _portal.SignInAsync();
        _edge = await Enrollee.EnrollEdgeAsync(_portal, await Enrollee.CreateProvisioningKeyAsync(_admin, ProvisioningKinds.Edge));
    }

    public async Task DisposeAsync()
    {
        _edge.Dispose();
        _admin.Dispose();
        await _portal.DisposeAsync();
    }

    [Fact]
    [Trait(Fuzzing.Trait, Fuzzing.Category)]
    public async Task Generated_batches_are_stored_as_answered_or_refused_with_a_problem_and_never_fail_the_portal()
    {
        var seed = Fuzzing.Seed(20261207);
        var random = new Random(seed);
        var valid = ValidBatch();
        var path = new Uri(_portal.BaseAddress, TransactionLogBatch.Path);
        using var edge = _edge.CreateClient(_portal);
        // Mutants of a batch that is refused anyway would test little beyond the first check.
        var first = await FuzzedRequests.SendAsync(edge, HttpMethod.Post, path, new JsonMutant("valid batch", Encoding.UTF8.GetBytes(valid.ToJsonString()), "application/json"));
        Assert.True(first.Status == HttpStatusCode.Accepted && AcceptedProblem(first, 2) is null, $"The valid batch is refused: {first}");
        var failures = new List<string>();
        var count = Fuzzing.Inputs(1200);
        for (var i = 0; i < count; i++)
        {
            var mutant = JsonMutations.Generate(random, valid, i, ["application/json"]);
            var before = await StoredAsync();
            var answer = await FuzzedRequests.SendAsync(edge, HttpMethod.Post, path, mutant);
            var stored = await StoredAsync() - before;
            var failure = answer is { Failure: null, Status: HttpStatusCode.Accepted }
                ? AcceptedProblem(answer, stored)
                : FuzzedRequests.NotARefusal(answer) ?? (stored == 0 ? null : $"refused, but {stored} rows were stored: {answer}");
            if (failure is not null)
            {
                failures.Add($"input {i}: {failure}\n    input: {mutant}");
            }
        }

        Assert.True(failures.Count == 0, $"{Fuzzing.Describe(seed)}: {failures.Count} of {count} inputs were mishandled; the first:\n{string.Join('\n', failures.Take(5))}");
        // The portal still takes a good batch.
        await EdgeLogs.PostAcceptedAsync(_portal, _edge, EdgeLogs.Record(_edge, DateTimeOffset.UtcNow));
    }

    /// <summary>A batch of two records that between them set every field.</summary>
    private JsonNode ValidBatch()
    {
        var now = DateTimeOffset.UtcNow;
        var records = new[] { EdgeLogs.HttpRecord(_edge, now.AddSeconds(-2)), EdgeLogs.BlockedTunnelRecord(_edge, now.AddSeconds(-1)) };
        return JsonSerializer.SerializeToNode(new TransactionLogBatch(records), PortalServer.Json)!;
    }

    /// <summary>What is wrong with a 202, or null: it must say what it stored, and have stored exactly that.</summary>
    private static string? AcceptedProblem(FuzzAnswer answer, long stored)
    {
        TransactionLogBatchResult? result;
        try
        {
            result = JsonSerializer.Deserialize<TransactionLogBatchResult>(answer.Text, PortalServer.Json);
        }
        catch (JsonException)
        {
            result = null;
        }

        if (result is null || result.Accepted < 1 || result.Refused < 0 || result.Problems?.Count != Math.Min(result.Refused, TransactionLogBatchResult.MaxProblems))
        {
            return $"a 202 that is no batch result: {answer}";
        }

        return stored == result.Accepted ? null : $"a 202 that accepted {result.Accepted}, but {stored} rows were stored: {answer}";
    }

    /// <summary>The rows of the transaction log, of every tenant.</summary>
    private async Task<long> StoredAsync()
    {
        using var scope = _portal.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<PortalDbContext>().Set<TransactionLogEntry>().IgnoreQueryFilters().LongCountAsync();
    }
}
