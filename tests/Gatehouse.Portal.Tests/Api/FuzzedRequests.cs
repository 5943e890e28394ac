using System.Net;
using System.Text.Json;
using Gatehouse.Testing.Json;

namespace Gatehouse.Portal.Tests.Api;

/// <summary>What the portal answered to a generated request; <see cref="Failure"/> when it gave no answer.</summary>
/// <param name="Status">The status.</param>
/// <param name="ContentType">The media type of the answer, if any.</param>
/// <param name="Text">The answer's body.</param>
/// <param name="Failure">Why there is no answer (none in time, the connection cut), or null.</param>
public sealed record FuzzAnswer(HttpStatusCode Status, string? ContentType, string Text, string? Failure)
{
    /// <summary>The answer as a failure message quotes it.</summary>
    public override string ToString() => Failure ?? $"{(int)Status} {ContentType}: {(Text.Length <= 600 ? Text : Text[..600] + "…")}";
}

/// <summary>Sends generated bodies to the portal's API and judges the answers: never a 5xx, never a hang.</summary>
public static class FuzzedRequests
{
    /// <summary>How long an answer may take: far more than any does, on a busy machine too.</summary>
    public static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Sends <paramref name="mutant"/> and reads the answer whole.</summary>
    public static async Task<FuzzAnswer> SendAsync(HttpClient client, HttpMethod method, Uri uri, JsonMutant mutant)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(mutant);
        using var request = new HttpRequestMessage(method, uri) { Content = new ByteArrayContent(mutant.Body) };
        // The portal refuses an oversized body from its headers; with 100-continue the client waits for that answer
        // instead of racing the server's close with the rest of the body.
        request.Headers.ExpectContinue = true;
        if (mutant.ContentType is not null)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", mutant.ContentType);
        }

        using var timeout = new CancellationTokenSource(AnswerTimeout);
        try
        {
            using var response = await client.SendAsync(request, timeout.Token);
            return new FuzzAnswer(response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync(timeout.Token), null);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return new FuzzAnswer(default, null, "", $"no answer within {AnswerTimeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException e)
        {
            return new FuzzAnswer(default, null, "", $"no answer: {e.Message}");
        }
    }

    /// <summary>
    /// Why <paramref name="answer"/> is not a refusal as the API gives one, or null when it is: a 4xx RFC 9457 problem
    /// whose detail says what is wrong.
    /// </summary>
    public static string? NotARefusal(FuzzAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        if (answer.Failure is not null)
        {
            return answer.Failure;
        }

        if ((int)answer.Status is < 400 or > 499 || answer.ContentType != "application/problem+json")
        {
            return $"not a 4xx problem: {answer}";
        }

        try
        {
            using var problem = JsonDocument.Parse(answer.Text);
            return problem.RootElement.TryGetProperty("detail", out var detail) && detail.GetString() is { Length: > 0 }
                ? null
                : $"a problem without a detail: {answer}";
        }
        catch (JsonException)
        {
            return $"a problem that is no JSON: {answer}";
        }
    }
}
