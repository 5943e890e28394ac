using System.Net;
using System.Text.Json;

namespace Gatehouse.Portal.Tests.Hosting;

/// <summary>An RFC 9457 problem answer as the API sends it.</summary>
public sealed record Problem(int Status, string? Field, string Detail)
{
    /// <summary>Asserts the status and problem content type, and returns the problem.</summary>
    public static async Task<Problem> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        return new Problem(
            root.GetProperty("status").GetInt32(),
            root.TryGetProperty("field", out var field) ? field.GetString() : null,
            root.TryGetProperty("detail", out var detail) ? detail.GetString() ?? "" : "");
    }
}
