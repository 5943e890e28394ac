using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tuf.Tests.Repository;

/// <summary>
/// Serves a <see cref="RepositorySimulator"/>'s files over HTTP on loopback, records every
/// request, and can be told to answer a path with endless data.
/// </summary>
internal sealed class RepositoryServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentDictionary<string, bool> endless = new(StringComparer.Ordinal);

    private RepositoryServer(WebApplication app, RepositorySimulator repository)
    {
        this.app = app;
        Repository = repository;
    }

    public RepositorySimulator Repository { get; }

    public ConcurrentQueue<string> Requests { get; } = new();

    public Uri MetadataUrl => new(BaseUrl, "metadata/");

    public Uri TargetsUrl => new(BaseUrl, "targets/");

    private Uri BaseUrl => new(app.Urls.First() + "/");

    public static async Task<RepositoryServer> StartAsync(RepositorySimulator repository)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new RepositoryServer(app, repository);
        app.Run(server.ServeAsync);
        await app.StartAsync();
        return server;
    }

    /// <summary>Answers <paramref name="path"/> (<c>metadata/timestamp.json</c>) with bytes that never end.</summary>
    public void ServeEndlessly(string path) => endless[path] = true;

    /// <summary>The requests for metadata and targets since the last call, oldest first.</summary>
    public IReadOnlyList<string> TakeRequests()
    {
        var taken = new List<string>();
        while (Requests.TryDequeue(out var path))
        {
            taken.Add(path);
        }

        return taken;
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();

    private async Task ServeAsync(HttpContext context)
    {
        // The raw target, so that an escaped '/' in a role name stays escaped.
        var path = context.Features.Get<IHttpRequestFeature>()!.RawTarget.TrimStart('/');
        Requests.Enqueue(path);
        if (endless.ContainsKey(path))
        {
            var chunk = new byte[16384];
            Array.Fill(chunk, (byte)' ');
            try
            {
                while (!context.RequestAborted.IsCancellationRequested)
                {
                    await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
                // The client stopped reading: what an endless-data defence does.
            }

            return;
        }

        byte[]? bytes;
        lock (Repository)
        {
            bytes = Repository.Files.GetValueOrDefault(path);
        }

        if (bytes is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(bytes);
    }
}
