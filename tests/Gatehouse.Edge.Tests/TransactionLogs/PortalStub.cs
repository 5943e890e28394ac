using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Gatehouse.Wire.Logs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Edge.Tests.TransactionLogs;

/// <summary>
/// The portal's <c>POST /api/v1/edge/logs</c> on real Kestrel (plain HTTP on loopback: mutual TLS is the
/// client's business). It keeps every post and answers as scripted, then 202 with the count.
/// </summary>
internal sealed class PortalStub : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Answer> _script = new();
    private readonly ConcurrentQueue<Post> _posts = new();

    private PortalStub(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Every post, accepted or not, in order.</summary>
    public IReadOnlyList<Post> Posts => [.. _posts];

    /// <summary>The records of the posts answered 202.</summary>
    public IReadOnlyList<TransactionLogRecord> Accepted => [.. _posts.Where(p => p.Status == StatusCodes.Status202Accepted).SelectMany(p => p.Batch.Records)];

    public static async Task<PortalStub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var stub = new PortalStub(app);
        app.MapPost(TransactionLogBatch.Path, stub.HandleAsync);
        await app.StartAsync();
        stub.BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        return stub;
    }

    /// <summary>
    /// The next posts get these answers, in order. A 202 with <paramref name="accepted"/> counts the rest as refused and
    /// lists <paramref name="problems"/> with them.
    /// </summary>
    public void Then(int status, string? problemDetail = null, string? retryAfter = null, int? accepted = null, IReadOnlyList<TransactionLogRecordProblem>? problems = null) =>
        _script.Enqueue(new Answer(status, problemDetail, retryAfter, accepted, problems));

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var batch = JsonSerializer.Deserialize<TransactionLogBatch>(body.ToArray(), JsonSerializerOptions.Web)!;
        var answer = _script.TryDequeue(out var scripted) ? scripted : new Answer(StatusCodes.Status202Accepted, null, null, null, null);
        _posts.Enqueue(new Post(context.Request.ContentType, body.ToArray(), batch, answer.Status));
        context.Response.StatusCode = answer.Status;
        if (answer.RetryAfter is not null)
        {
            context.Response.Headers.RetryAfter = answer.RetryAfter;
        }

        if (answer.Status == StatusCodes.Status202Accepted)
        {
            var accepted = answer.Accepted ?? batch.Records.Count;
            await context.Response.WriteAsJsonAsync(new TransactionLogBatchResult(accepted, batch.Records.Count - accepted, answer.Problems ?? []), JsonSerializerOptions.Web);
        }
        else
        {
            context.Response.ContentType = "application/problem+json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(new { type = "about:blank", title = "Refused", status = answer.Status, detail = answer.Detail }));
        }
    }

    public sealed record Post(string? ContentType, byte[] Body, TransactionLogBatch Batch, int Status);

    private sealed record Answer(int Status, string? Detail, string? RetryAfter, int? Accepted, IReadOnlyList<TransactionLogRecordProblem>? Problems);
}
