using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Wire.Api;

namespace Gatehouse.Cli.Connection;

/// <summary>
/// The portal's REST API (<c>/api/v1</c>) over HTTP: authentication headers, JSON with web
/// defaults, paging, and every failure turned into a <see cref="CliException"/> with its exit code.
/// </summary>
internal sealed class PortalClient : IDisposable
{
    /// <summary>The largest page the portal serves.</summary>
    public const int MaxPageSize = 500;

    /// <summary>Serializer options of the wire: camelCase, as the portal writes.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // Requests leave out what is not given: for PATCH, absent means "stays as it is".
    private static readonly JsonSerializerOptions RequestJson = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private const string SessionCookie = "gatehouse_session";

    // Bodies larger than this are sent with Expect: 100-continue.
    private const long LargeBodyBytes = 64 * 1024;

    private readonly HttpClient _http;
    private readonly PortalTrust _trust;

    private PortalClient(HttpClient http, PortalTrust trust, ConnectionSettings settings)
    {
        _http = http;
        _trust = trust;
        Settings = settings;
    }

    /// <summary>Where and as whom this client talks.</summary>
    public ConnectionSettings Settings { get; }

    /// <summary>A client for the settings; warns on stderr when the connection is not private.</summary>
    public static PortalClient Create(ConnectionSettings settings, TextWriter stderr)
    {
        if (settings.Insecure && settings.Portal.Scheme == Uri.UriSchemeHttps)
        {
            stderr.WriteLine("warning: --insecure: the portal's certificate is not verified; anyone on the path can read your credentials");
        }
        if (settings.IsCleartextOverNetwork)
        {
            stderr.WriteLine($"warning: {settings.Portal} is not https: credentials cross the network in clear");
        }

        var trust = PortalTrust.For(settings);
        var handler = new SocketsHttpHandler
        {
            UseCookies = false,
            AllowAutoRedirect = false,
            ConnectTimeout = TimeSpan.FromSeconds(15),
        };
        handler.SslOptions.RemoteCertificateValidationCallback = trust.Validate;
        var http = new HttpClient(handler) { BaseAddress = new Uri(settings.Portal, "api/v1/"), Timeout = TimeSpan.FromSeconds(120) };
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("gatehouse-cli", typeof(PortalClient).Assembly.GetName().Version?.ToString(3)));
        return new PortalClient(http, trust, settings);
    }

    /// <summary>GET a JSON object.</summary>
    public Task<ApiResult<T>> GetAsync<T>(string path, CancellationToken ct) => SendAsync<T>(HttpMethod.Get, path, null, ct);

    /// <summary>Sends a JSON body (or none) and reads the JSON answer.</summary>
    public async Task<ApiResult<T>> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        var content = body is null ? null : JsonContent(body);
        return Typed<T>(method, path, await SendForJsonAsync(method, path, content, ct));
    }

    /// <summary>Sends a change whose answer has no body (204).</summary>
    public async Task SendAsync(HttpMethod method, string path, object? body, CancellationToken ct) =>
        await SendForJsonAsync(method, path, body is null ? null : JsonContent(body), ct);

    /// <summary>Sends prepared content (for example YAML) and reads the JSON answer.</summary>
    public async Task<ApiResult<T>> SendContentAsync<T>(HttpMethod method, string path, HttpContent content, CancellationToken ct) =>
        Typed<T>(method, path, await SendForJsonAsync(method, path, content, ct));

    /// <summary>GET a text document (for example a YAML export), as is.</summary>
    public async Task<string> GetTextAsync(string path, CancellationToken ct)
    {
        using var response = await SendRawAsync(HttpMethod.Get, path, null, ct);
        return await response.Content.ReadAsStringAsync(ct);
    }

    /// <summary>GET a document as its exact bytes (a signed bundle, whose signature covers them).</summary>
    public async Task<byte[]> GetBytesAsync(string path, CancellationToken ct)
    {
        using var response = await SendRawAsync(HttpMethod.Get, path, null, ct);
        return await response.Content.ReadAsByteArrayAsync(ct);
    }

    /// <summary>
    /// Every item of a paged listing, following <c>nextCursor</c>; stops after <paramref name="limit"/> items when given.
    /// </summary>
    public async Task<ApiResult<IReadOnlyList<T>>> ListAsync<T>(string path, int? limit, CancellationToken ct)
    {
        var items = new List<T>();
        var json = new JsonArray();
        string? cursor = null;
        do
        {
            var pageSize = limit is { } l ? Math.Clamp(l - items.Count, 1, MaxPageSize) : MaxPageSize;
            var separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
            var pagePath = $"{path}{separator}limit={pageSize}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
            var page = await GetAsync<Page<JsonElement>>(pagePath, ct);
            foreach (var item in page.Value.Items)
            {
                if (limit is { } max && items.Count >= max)
                {
                    break;
                }
                items.Add(item.Deserialize<T>(Json)!);
                json.Add(JsonNode.Parse(item.GetRawText()));
            }
            cursor = page.Value.NextCursor;
        }
        while (cursor is not null && (limit is null || items.Count < limit));
        return new ApiResult<IReadOnlyList<T>>(items, json);
    }

    /// <summary>Signs in; returns the session with its cookie, taken from <c>Set-Cookie</c>.</summary>
    public async Task<(LoginResponse Login, string Cookie)> LoginAsync(LoginRequest request, CancellationToken ct)
    {
        using var response = await SendRawAsync(HttpMethod.Post, "auth/login", JsonContent(request), ct);
        var login = await response.Content.ReadFromJsonAsync<LoginResponse>(Json, ct)
            ?? throw new CliException(ExitCodes.Failed, "the portal answered the login with no body");
        var cookie = response.Headers.TryGetValues("Set-Cookie", out var values)
            ? values.Select(ParseSessionCookie).FirstOrDefault(c => c is not null)
            : null;
        return (login, cookie ?? throw new CliException(ExitCodes.Failed, $"the portal did not set the {SessionCookie} cookie"));
    }

    /// <summary>The value of <c>gatehouse_session</c> in one <c>Set-Cookie</c> header, or null.</summary>
    public static string? ParseSessionCookie(string setCookie)
    {
        var pair = setCookie.Split(';', 2)[0].Trim();
        var equals = pair.IndexOf('=', StringComparison.Ordinal);
        return equals > 0 && pair[..equals] == SessionCookie && equals + 1 < pair.Length ? pair[(equals + 1)..] : null;
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();

    private static StringContent JsonContent(object body) =>
        new(JsonSerializer.Serialize(body, body.GetType(), RequestJson), Encoding.UTF8, "application/json");

    private static ApiResult<T> Typed<T>(HttpMethod method, string path, (JsonNode? Node, HttpStatusCode Status) answer)
    {
        var value = answer.Node is null ? default : answer.Node.Deserialize<T>(Json);
        return new ApiResult<T>(value ?? throw new CliException(ExitCodes.Failed, $"the portal answered {method} {path} with no body"), answer.Node, answer.Status);
    }

    private async Task<(JsonNode? Node, HttpStatusCode Status)> SendForJsonAsync(HttpMethod method, string path, HttpContent? content, CancellationToken ct)
    {
        using var response = await SendRawAsync(method, path, content, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (string.IsNullOrWhiteSpace(text))
        {
            return (null, response.StatusCode);
        }
        try
        {
            return (JsonNode.Parse(text), response.StatusCode);
        }
        catch (JsonException e)
        {
            throw new CliException(ExitCodes.Failed, $"the portal answered {method} {path} with something that is not JSON", inner: e);
        }
    }

    // Sends one request with the credentials; a non-success answer becomes a CliException.
    private async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, HttpContent? content, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };

        // A large body waits for the portal's go-ahead: refused for its size (413), it gets that answer, where sending
        // it whole into a closed connection got only "did not answer properly".
        if (content?.Headers.ContentLength is > LargeBodyBytes)
        {
            request.Headers.ExpectContinue = true;
        }

        if (Settings.Token is { } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        else if (Settings.Session is { } session)
        {
            request.Headers.Add("Cookie", $"{SessionCookie}={session.Cookie}");
            if (method != HttpMethod.Get && method != HttpMethod.Head)
            {
                request.Headers.Add("X-CSRF-Token", session.CsrfToken);
            }
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.Unreachable, $"the portal at {Settings.Portal} did not answer within {_http.Timeout.TotalSeconds:0} s", inner: e);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }
        using (response)
        {
            throw await ProblemAsync(response, ct);
        }
    }

    private CliException Unreachable(HttpRequestException e)
    {
        var where = $"{Settings.Portal.Host}:{Settings.Portal.Port}";
        var message = e.HttpRequestError switch
        {
            HttpRequestError.SecureConnectionError =>
                $"TLS handshake with {where} failed: {_trust.LastRefusal ?? e.InnerException?.Message ?? e.Message}",
            HttpRequestError.NameResolutionError => $"cannot resolve the portal's host name {Settings.Portal.Host}",
            HttpRequestError.ConnectionError when FindSocketError(e) == SocketError.ConnectionRefused =>
                $"connection refused by {where}: is the portal running?",
            HttpRequestError.ConnectionError => $"cannot connect to {where}: {e.InnerException?.Message ?? e.Message}",
            _ => $"the portal at {where} did not answer properly: {e.Message}",
        };
        return new CliException(ExitCodes.Unreachable, message, inner: e);
    }

    private static SocketError? FindSocketError(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket)
            {
                return socket.SocketErrorCode;
            }
        }
        return null;
    }

    // RFC 9457 problem details → message, field and exit code.
    private static async Task<CliException> ProblemAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var status = (int)response.StatusCode;
        string? title = null, detail = null, field = null;
        try
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (text.Length > 0 && JsonNode.Parse(text) is JsonObject problem)
            {
                title = problem["title"]?.GetValueKind() == JsonValueKind.String ? problem["title"]!.GetValue<string>() : null;
                detail = problem["detail"]?.GetValueKind() == JsonValueKind.String ? problem["detail"]!.GetValue<string>() : null;
                field = problem["field"]?.GetValueKind() == JsonValueKind.String ? problem["field"]!.GetValue<string>() : null;
            }
        }
        catch (JsonException)
        {
            // Not a problem document (a proxy's error page, say): the status line speaks instead.
        }

        var message = detail ?? title ?? $"the portal answered {status} {response.ReasonPhrase}";
        // Refused sign-ins are `gatehouse login` itself: telling to run it would send the user round in a circle.
        if (response.StatusCode == HttpStatusCode.Unauthorized && !IsSignIn(response.RequestMessage))
        {
            message += " (run `gatehouse login`)";
        }
        else if (response.StatusCode == HttpStatusCode.Forbidden && IsOneTimePassword(message))
        {
            message += " (run `gatehouse admin password` to choose your own password)";
        }
        return new CliException(ExitCodes.FromStatus(status), message, field, status);
    }

    private static bool IsSignIn(HttpRequestMessage? request) =>
        request?.RequestUri?.AbsolutePath.EndsWith("/auth/login", StringComparison.Ordinal) == true;

    /// <summary>The portal's refusal because the admin still has a one-time password.</summary>
    public static bool IsOneTimePassword(string message) =>
        message.Contains("one-time", StringComparison.OrdinalIgnoreCase) || message.Contains("one time", StringComparison.OrdinalIgnoreCase);
}
