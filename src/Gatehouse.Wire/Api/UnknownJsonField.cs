using System.Text.Json;

namespace Gatehouse.Wire.Api;

/// <summary>
/// Recognises System.Text.Json's refusal of a field its type does not have (a type marked
/// <c>JsonUnmappedMemberHandling.Disallow</c>, or options saying so), so that readers can name the field as the
/// document spells it rather than repeat .NET's message, which names .NET types.
/// </summary>
public static class UnknownJsonField
{
    /// <summary>The path of the unknown field (<c>rules[0].criteria.domain</c>), or null when <paramref name="e"/> is another error.</summary>
    public static string? PathOf(JsonException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.Path is { Length: > 1 } path && e.Message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal)
            ? path.TrimStart('$', '.')
            : null;
    }
}
