using System.Reflection;
using System.Text.Json;
using Gatehouse.Portal.Hosting;
using Gatehouse.Wire.Api;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Api;

/// <summary>Turns every refused or failed API call into RFC 9457 problem details, in one place.</summary>
internal sealed partial class ProblemMapping(ILogger<ProblemMapping> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception is BadHttpRequestException { StatusCode: 413 }
            ? new Problem(413, "too-large", "The request is too large.", TooLarge(httpContext), null)
            : ToProblem(exception);
        if (problem.Status >= 500)
        {
            PortalLog.RequestFailed(logger, httpContext.Request.Method, httpContext.Request.Path, exception);
        }

        httpContext.Response.StatusCode = problem.Status;
        if (problem.Status == 503)
        {
            httpContext.Response.Headers.RetryAfter = "1";
        }

        await Results.Problem(
            detail: problem.Detail,
            statusCode: problem.Status,
            title: problem.Title,
            type: $"https://gatehouse.dev/problems/{problem.Type}",
            extensions: problem.Field is null
                ? null
                : new Dictionary<string, object?> { ["field"] = problem.Field, ["errors"] = new Dictionary<string, string[]> { [problem.Field] = [problem.Detail] } })
            .ExecuteAsync(httpContext);
        return true;
    }

    /// <summary>Why a body was refused as too large, with the limit in force for its route.</summary>
    internal static string TooLarge(HttpContext http)
    {
        var limit = http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize
            ?? http.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IRequestSizeLimitMetadata>()?.MaxRequestBodySize;
        return limit is null ? "The request body is larger than the portal accepts." : $"The request body is larger than the portal accepts ({limit} bytes).";
    }

    private sealed record Problem(int Status, string Type, string Title, string Detail, string? Field);

    private static Problem ToProblem(Exception exception) => exception switch
    {
        PortalException p => p.Kind switch
        {
            PortalErrorKind.Invalid => new(400, "invalid", "The request is not valid.", p.Message, p.Field),
            PortalErrorKind.Unauthenticated => new(401, "unauthenticated", "Sign in first.", p.Message, null),
            PortalErrorKind.Forbidden => new(403, "forbidden", "Not allowed.", p.Message, null),
            PortalErrorKind.NotFound => new(404, "not-found", "Not found.", p.Message, null),
            PortalErrorKind.Conflict => new(409, "conflict", "Conflict.", p.Message, p.Field),
            PortalErrorKind.TooLarge => new(413, "too-large", "The request is too large.", p.Message, null),
            _ => new(503, "unavailable", "Try again later.", p.Message, null),
        },
        BadHttpRequestException { InnerException: JsonException json } => FromJson(json),
        JsonException json => FromJson(json),
        BadHttpRequestException bad when UnboundParameter().Match(bad.Message) is { Success: true } unbound => FromUnbound(unbound),
        BadHttpRequestException bad => new(bad.StatusCode, "bad-request", "The request is not valid.", bad.Message, null),
        DbUpdateException db when IsUniqueViolation(db) => new(409, "conflict", "Conflict.", "An object with the same name already exists.", null),
        DbUpdateConcurrencyException => new(409, "conflict", "Conflict.", "The object was changed by someone else; read it again.", null),
        _ when IsTransient(exception) => new(503, "unavailable", "Try again later.", "The database is busy; try again in a moment.", null),
        TimeoutException or DbUpdateException => new(503, "unavailable", "Try again later.", "The database did not complete the change.", null),
        OperationCanceledException => new(499, "cancelled", "Cancelled.", "The request was cancelled.", null),
        _ => new(500, "internal", "Internal error.", "The portal failed to handle the request; the details are in its log.", null),
    };

    /// <summary>System.Text.Json names the offending member in <see cref="JsonException.Path"/> (for example <c>$.groupIds[1]</c>).</summary>
    private static Problem FromJson(JsonException json)
    {
        var field = string.IsNullOrEmpty(json.Path) || json.Path == "$" ? "$" : json.Path.TrimStart('$', '.');
        var message = json.Message.Split(" Path:", 2)[0];
        // A missing required property is reported at the object's path; name the property itself.
        if (UnknownJsonField.PathOf(json) is { } unknown)
        {
            // .NET's words name the .NET type the body was read into, which says nothing to the caller.
            message = $"{unknown} is not a field of this call; check its spelling against the API reference.";
        }
        else if (MissingProperty().Match(message) is { Success: true } missing)
        {
            field = field == "$" ? missing.Groups[1].Value : $"{field}.{missing.Groups[1].Value}";
            message = $"{missing.Groups[1].Value} is required.";
        }
        else if (message.StartsWith(DuplicateProperty, StringComparison.Ordinal) && field != "$")
        {
            // For an object of ids (a rollout's pins), two spellings of one id are the same key twice.
            message = $"{field} is given twice; give it once.";
        }
        else if (UnconvertedValue().Match(message) is { Success: true } unconverted && TypeOfValue(unconverted.Groups["type"].Value, field) is { } type)
        {
            message = $"{field} takes {Takes(type)}.";
        }

        return new(400, "invalid-json", "The request body is not valid JSON for this call.", message, field);
    }

    /// <summary>
    /// The type of the value at <paramref name="field"/>, from the type System.Text.Json could not convert it to: the value's
    /// own (<c>System.Guid</c>), or for a constructor's parameter the type being built (<c>Gatehouse.Wire.Api.CreateRolloutRequest</c>),
    /// whose property the field names. Null when neither can be found.
    /// </summary>
    private static Type? TypeOfValue(string typeName, string field)
    {
        var type = Type.GetType(typeName) ?? AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetType(typeName)).FirstOrDefault(t => t is not null);
        if (type is null || type.Namespace?.StartsWith("Gatehouse.", StringComparison.Ordinal) != true)
        {
            return type;
        }

        var member = field.Split('.')[^1];
        // "ids[2]" is the element of a property; a last segment ending in ']' with no '[' is part of a dictionary key ("a.b]").
        var bracket = member.IndexOf('[', StringComparison.Ordinal);
        var indexed = bracket >= 0 && member.EndsWith(']');
        var property = type.GetProperty(indexed ? member[..bracket] : member, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        if (property is null)
        {
            return null;
        }

        return indexed ? ElementType(property.PropertyType) : property.PropertyType;
    }

    private static Type? ElementType(Type collection) =>
        collection.IsArray ? collection.GetElementType() : collection.IsGenericType ? collection.GetGenericArguments()[^1] : null;

    /// <summary>What a value of <paramref name="type"/> is, in words rather than .NET types.</summary>
    internal static string Takes(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            _ when type == typeof(string) => "a string",
            _ when type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte) || type == typeof(uint) || type == typeof(ulong) => "a whole number",
            _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => "a number",
            _ when type == typeof(Guid) => "an id",
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(DateTimeOffset) || type == typeof(DateTime) => "a time (ISO 8601, for example 2026-12-06T10:00:00Z)",
            _ when type.GetInterfaces().Append(type).Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)) => "an object",
            _ when typeof(System.Collections.IEnumerable).IsAssignableFrom(type) || (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>)) => "a list",
            _ => "an object",
        };
    }

    /// <summary>
    /// A query or route value the framework could not convert (<c>Failed to bind parameter "Nullable&lt;int&gt; limit"
    /// from "abc".</c>): the parameter is the field, and the message says what it takes in words, not in .NET types.
    /// </summary>
    private static Problem FromUnbound(System.Text.RegularExpressions.Match unbound)
    {
        var (type, name, value) = (unbound.Groups["type"].Value, unbound.Groups["name"].Value, unbound.Groups["value"].Value);
        var takes = type.Replace("Nullable<", "", StringComparison.Ordinal).TrimEnd('>') switch
        {
            "int" => Takes(typeof(int)),
            "long" => Takes(typeof(long)),
            "Guid" => Takes(typeof(Guid)),
            "DateTimeOffset" => Takes(typeof(DateTimeOffset)),
            "DateTime" => Takes(typeof(DateTime)),
            "bool" => Takes(typeof(bool)),
            var other => $"a {other}",
        };
        return new(400, "invalid", "The request is not valid.", $"{name} takes {takes}, not '{value}'.", name);
    }

    /// <summary>A database failure the same call may not meet again (too many clients, a dropped connection, a timeout).</summary>
    private static bool IsTransient(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is System.Data.Common.DbException { IsTransient: true })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the database refused a change for a unique index.</summary>
    internal static bool IsUniqueViolation(DbUpdateException db) =>
        db.InnerException?.Message is { } m
        && (m.Contains("UNIQUE constraint failed", StringComparison.Ordinal) || m.Contains("23505", StringComparison.Ordinal) || m.Contains("duplicate key", StringComparison.Ordinal));

    /// <summary>System.Text.Json's message for a member given twice (<see cref="JsonSerializerOptions.AllowDuplicateProperties"/> is off).</summary>
    private const string DuplicateProperty = "Duplicate properties not allowed";

    [System.Text.RegularExpressions.GeneratedRegex("^Failed to bind parameter \"(?<type>[^ \"]+) (?<name>[^\"]+)\" from \"(?<value>.*)\"\\.$")]
    private static partial System.Text.RegularExpressions.Regex UnboundParameter();

    [System.Text.RegularExpressions.GeneratedRegex("^The JSON value could not be converted to (?<type>\\S+)\\.$")]
    private static partial System.Text.RegularExpressions.Regex UnconvertedValue();

    [System.Text.RegularExpressions.GeneratedRegex("missing required properties including: '([^']+)'")]
    private static partial System.Text.RegularExpressions.Regex MissingProperty();
}
