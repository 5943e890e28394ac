using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Cli.Tests.Scripted;

/// <summary>A request the scripted portal received.</summary>
public sealed record ReceivedRequest(string Method, string Path, string Query, string? ContentType, string Body, IReadOnlyDictionary<string, string> Headers)
{
    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : null;
}

/// <summary>What the scripted portal answers.</summary>
public sealed record Reply(int Status, string? Body = null, string ContentType = "application/json")
{
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    public static Reply Json(string body) => new(200, body);

    public static Reply Problem(int status, string title, string detail, string? field = null) => new(status,
        System.Text.Json.JsonSerializer.Serialize(new { type = "about:blank", title, status, detail, field }),
        "application/problem+json");
}

/// <summary>
/// A real HTTP server on loopback (<see cref="HttpListener"/>) answering from a script, so the
/// CLI is tested over real sockets. Records every request it receives.
/// </summary>
public sealed class ScriptedPortal : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly Func<ReceivedRequest, Reply> _script;
    private readonly Task _serving;

    private ScriptedPortal(HttpListener listener, Uri url, Func<ReceivedRequest, Reply> script)
    {
        _listener = listener;
        _script = script;
        Url = url;
        _serving = Task.Run(ServeAsync);
    }

    public Uri Url { get; }

    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    /// <summary>Starts on a free loopback port; <paramref name="script"/> sees paths without <c>/api/v1</c>.</summary>
    public static ScriptedPortal Start(Func<ReceivedRequest, Reply> script)
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort();
            var url = new Uri($"http://127.0.0.1:{port}/");
            var listener = new HttpListener();
            listener.Prefixes.Add(url.ToString());
            try
            {
                listener.Start();
                return new ScriptedPortal(listener, url, script);
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                // Another test took the port between the probe and the bind: probe again.
                listener.Close();
            }
        }
    }

    /// <summary>A port nobody listens on (probed free, then released).</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var headers = context.Request.Headers.AllKeys.Where(k => k is not null)
                .ToDictionary(k => k!.ToLowerInvariant(), k => context.Request.Headers[k]!);
            var path = context.Request.Url!.AbsolutePath;
            const string prefix = "/api/v1";
            var request = new ReceivedRequest(context.Request.HttpMethod,
                path.StartsWith(prefix, StringComparison.Ordinal) ? path[prefix.Length..] : path,
                context.Request.Url.Query.TrimStart('?'), context.Request.ContentType, body, headers);
            Requests.Enqueue(request);

            Reply reply;
            try
            {
                reply = _script(request);
            }
            catch (Exception e)
            {
                reply = Reply.Problem(500, "script failed", e.Message);
            }
            context.Response.StatusCode = reply.Status;
            foreach (var (name, value) in reply.Headers)
            {
                context.Response.AddHeader(name, value);
            }
            if (reply.Body is not null)
            {
                var bytes = Encoding.UTF8.GetBytes(reply.Body);
                context.Response.ContentType = reply.ContentType;
                context.Response.ContentLength64 = bytes.Length;
                await context.Response.OutputStream.WriteAsync(bytes);
            }
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _serving.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
