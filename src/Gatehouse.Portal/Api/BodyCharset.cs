using Gatehouse.Portal.Policies;
using Microsoft.Net.Http.Headers;

namespace Gatehouse.Portal.Api;

/// <summary>
/// JSON and YAML bodies are UTF-8 (RFC 8259, section 8.1). A Content-Type whose charset names another encoding, or none
/// at all, is refused with 415 before the body is read; <c>charset="UTF-8"</c> in any spelling reaches the endpoint as
/// <c>charset=utf-8</c>. The framework's JSON binding would otherwise fail (500) on a charset it does not know, a quoted
/// one included, and the policy import reads UTF-8 whatever the charset says.
/// </summary>
internal static class BodyCharset
{
    private const string Utf8 = "utf-8";

    /// <summary>The middleware: checks the request's charset, then runs <paramref name="next"/>.</summary>
    public static Task CheckAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var type) && type.Charset.HasValue && IsText(type))
        {
            var charset = HeaderUtilities.RemoveQuotes(type.Charset);
            if (!charset.Equals(Utf8, StringComparison.OrdinalIgnoreCase) && !charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
            {
                throw new BadHttpRequestException(
                    $"The body must be UTF-8, but its Content-Type names the charset '{type.Charset}'. Send {type.MediaType} with charset=utf-8, or with no charset.",
                    StatusCodes.Status415UnsupportedMediaType);
            }

            if (!type.Charset.Equals(Utf8, StringComparison.Ordinal))
            {
                type.Charset = Utf8;
                request.ContentType = type.ToString();
            }
        }

        return next(context);
    }

    /// <summary>Whether the portal reads a body of this type as text: JSON (<c>application/json</c>, <c>…+json</c>) or YAML.</summary>
    private static bool IsText(MediaTypeHeaderValue type) =>
        type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        || type.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase)
        || PolicyDocumentReader.YamlMediaTypes.Contains(type.MediaType.Value, StringComparer.OrdinalIgnoreCase);
}
