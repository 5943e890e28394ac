using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Portal.Storage;

/// <summary>
/// Stores a small value (a list of domains, ids, rule criteria) as JSON in a plain text column:
/// portable across SQLite and PostgreSQL, and read or written only as a whole.
/// </summary>
public static class JsonColumn
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Maps the property to a required text column holding its JSON form; changes are detected by comparing that form.</summary>
    public static PropertyBuilder<T> HasJsonConversion<T>(this PropertyBuilder<T> property)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(property);
        var comparer = new ValueComparer<T>(
            (a, b) => Write(a) == Write(b),
            v => Write(v).GetHashCode(StringComparison.Ordinal),
            v => Read<T>(Write(v)));
        property.HasConversion(v => Write(v), s => Read<T>(s), comparer).IsRequired();
        return property;
    }

    /// <summary>Maps an optional property to a nullable text column holding its JSON form (null stays SQL NULL).</summary>
    public static PropertyBuilder<T?> HasOptionalJsonConversion<T>(this PropertyBuilder<T?> property)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(property);
        var comparer = new ValueComparer<T?>(
            (a, b) => Write(a) == Write(b),
            v => Write(v).GetHashCode(StringComparison.Ordinal),
            v => v == null ? null : Read<T>(Write(v)));
        property.HasConversion(v => Write(v), s => Read<T>(s), comparer).IsRequired(false);
        return property;
    }

    /// <summary>The JSON form a column holds.</summary>
    public static string Write<T>(T? value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Reads a column's JSON form back.</summary>
    public static T Read<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Options) ?? throw new InvalidOperationException($"A stored {typeof(T).Name} is null.");
}
