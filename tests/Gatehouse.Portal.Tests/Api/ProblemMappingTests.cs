using System.Data.Common;
using System.Text.Json;
using Gatehouse.Portal.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Portal.Tests.Api;

public sealed class ProblemMappingTests
{
    private sealed class BusyDatabaseException() : DbException("sorry, too many clients already")
    {
        public override bool IsTransient => true;
    }

    [Fact]
    public async Task Transient_database_failure_is_a_503_with_retry_after_not_a_500()
    {
        var (status, retryAfter, body) = await MapAsync(new InvalidOperationException("likely transient", new BusyDatabaseException()));
        Assert.Equal(503, status);
        Assert.Equal("1", retryAfter);
        Assert.Equal("https://gatehouse.dev/problems/unavailable", body.RootElement.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Unexpected_failure_is_a_500_that_reveals_nothing()
    {
        var (status, _, body) = await MapAsync(new InvalidOperationException("secret internal detail"));
        Assert.Equal(500, status);
        Assert.DoesNotContain("secret", body.RootElement.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Portal_exception_names_its_field()
    {
        var (status, _, body) = await MapAsync(PortalException.Invalid("rules[3].criteria.cidrs[0]", "not a CIDR"));
        Assert.Equal(400, status);
        Assert.Equal("rules[3].criteria.cidrs[0]", body.RootElement.GetProperty("field").GetString());
    }

    // A path's last segment ending in ']' with no '[' of its own (a dictionary key such as "a.b]" splits there) was cut at
    // index -1: the mapping of a 400 threw, and the request got a 500.
    [Theory]
    [InlineData("$.pins['a.b]']")]
    [InlineData("$.x]")]
    public async Task A_conversion_failure_at_an_odd_path_is_a_400_naming_it(string path)
    {
        var json = new JsonException($"The JSON value could not be converted to Gatehouse.Wire.Api.CreateRolloutRequest. Path: {path} | LineNumber: 0 | BytePositionInLine: 9.", path, 0, 9);

        var (status, _, body) = await MapAsync(json);

        Assert.Equal(400, status);
        Assert.Equal(path.TrimStart('$', '.'), body.RootElement.GetProperty("field").GetString());
    }

    private static async Task<(int Status, string? RetryAfter, JsonDocument Body)> MapAsync(Exception exception)
    {
        var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Response.Body = new MemoryStream();
        var handled = await new ProblemMapping(NullLogger<ProblemMapping>.Instance).TryHandleAsync(context, exception, CancellationToken.None);
        Assert.True(handled);
        context.Response.Body.Position = 0;
        return (context.Response.StatusCode, context.Response.Headers.RetryAfter.ToString() is { Length: > 0 } r ? r : null, await JsonDocument.ParseAsync(context.Response.Body));
    }
}
