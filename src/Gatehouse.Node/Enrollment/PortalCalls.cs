using System.Net;
using System.Net.Http.Json;
using System.Security.Authentication;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Gatehouse.Node.Enrollment;

/// <summary>One call to the portal with a bounded wait, its failures turned into <see cref="NodeException"/>.</summary>
internal static class PortalCalls
{

    /// <summary>Posts <paramref name="body"/> as JSON and reads a <typeparamref name="TAnswer"/>.</summary>
    public static async Task<TAnswer> PostAsync<TBody, TAnswer>(HttpClient client, string path, TBody body, JsonTypeInfo<TBody> bodyType, JsonTypeInfo<TAnswer> answerType, TimeSpan timeout, TimeProvider time, CancellationToken ct)
        where TAnswer : class
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            using var response = await client.PostAsJsonAsync(path, body, bodyType, linked.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw await RefusalAsync(response, linked.Token);
            }

            try
            {
                return await response.Content.ReadFromJsonAsync(answerType, linked.Token)
                    ?? throw new NodeException(NodeErrorReason.InvalidAnswer, $"The portal answered {path} with an empty body.", (int)response.StatusCode);
            }
            catch (JsonException e)
            {
                throw new NodeException(NodeErrorReason.InvalidAnswer, $"The portal's answer to {path} is not the expected JSON.", (int)response.StatusCode, innerException: e);
            }
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new NodeException(NodeErrorReason.Unavailable, $"The portal did not answer {path} within {timeout.TotalSeconds:0} seconds.", innerException: e);
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.SecureConnectionError && e.InnerException is AuthenticationException)
        {
            throw new NodeException(NodeErrorReason.Refused, $"TLS with the portal failed: its certificate is not trusted by this node, or it refused the node's certificate ({e.InnerException.Message}).", innerException: e);
        }
        catch (HttpRequestException e)
        {
            throw new NodeException(NodeErrorReason.Unavailable, $"The portal cannot be reached: {e.Message}", innerException: e);
        }
    }

    /// <summary>Reads an RFC 9457 problem answer: the portal's <c>detail</c> and <c>field</c>; 5xx, 408 and 429 are transient.</summary>
    public static async Task<NodeException> RefusalAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var status = (int)response.StatusCode;
        string? detail = null;
        string? field = null;
        try
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            using var problem = JsonDocument.Parse(text);
            if (problem.RootElement.ValueKind == JsonValueKind.Object)
            {
                detail = GetString(problem.RootElement, "detail") ?? GetString(problem.RootElement, "title");
                field = GetString(problem.RootElement, "field");
            }
        }
        catch (JsonException)
        {
            // Not problem JSON (a proxy's error page, say): the status alone says what happened.
        }

        var transient = status >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
        var message = detail is null
            ? $"The portal answered {status} {response.ReasonPhrase}."
            : detail;
        return new NodeException(transient ? NodeErrorReason.Unavailable : NodeErrorReason.Refused, message, status, field);
    }

    private static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
