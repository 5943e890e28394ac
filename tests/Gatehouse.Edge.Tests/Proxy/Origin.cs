using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Edge.Tests.Proxy;

/// <summary>A real HTTP origin on loopback that counts what reaches it.</summary>
internal sealed class Origin : IAsyncDisposable
{
    private readonly WebApplication _app;

    private Origin(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public ConcurrentQueue<(string Method, string Path, string Host, string RemotePort, string? ProxyAuthorization)> Requests { get; } = new();

    public static async Task<Origin> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        Origin? origin = null;
        app.Use(async (context, next) =>
        {
            origin!.Requests.Enqueue((context.Request.Method, context.Request.Path + context.Request.QueryString, context.Request.Host.ToString(), context.Connection.RemotePort.ToString(System.Globalization.CultureInfo.InvariantCulture), context.Request.Headers.ProxyAuthorization.FirstOrDefault()));
            await next();
        });
        app.MapGet("/hello", () => "hello from origin");
        app.MapMethods("/big/{size:int}", ["GET", "HEAD"], async (int size, HttpContext context) =>
        {
            context.Response.ContentLength = size;
            if (HttpMethods.IsHead(context.Request.Method))
            {
                return;
            }

            var chunk = new byte[64 * 1024];
            Array.Fill(chunk, (byte)'x');
            for (var left = size; left > 0; left -= chunk.Length)
            {
                await context.Response.Body.WriteAsync(chunk.AsMemory(0, Math.Min(left, chunk.Length)));
            }
        });
        app.MapGet("/chunked", async (HttpContext context) =>
        {
            await context.Response.WriteAsync("first,");
            await context.Response.Body.FlushAsync();
            await context.Response.WriteAsync("second");
        });
        app.MapGet("/empty", () => Results.NoContent());
        app.MapPost("/echo", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            return Results.Text($"got {body.Length}: {body[..Math.Min(body.Length, 64)]}");
        });
        await app.StartAsync();
        var port = new Uri(app.Urls.First()).Port;
        origin = new Origin(app, port);
        return origin;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
