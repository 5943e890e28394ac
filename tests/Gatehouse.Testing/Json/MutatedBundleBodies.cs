using System.Text.Json.Nodes;
using Gatehouse.Trust;
using Gatehouse.Trust.CanonicalJson;

namespace Gatehouse.Testing.Json;

/// <summary>
/// Mutants of a config bundle's body (<see cref="JsonMutations"/>) that a node's reader can be handed: those that parse as
/// the bundle verifier parses a signed document, into an object. The rest (duplicate keys, truncation, a body that is not
/// an object) the verifier refuses before any reader sees them.
/// </summary>
public static class MutatedBundleBodies
{
    /// <summary>The readable mutants among the first <paramref name="count"/> of <paramref name="valid"/>, each with its body.</summary>
    public static IEnumerable<(JsonMutant Mutant, JsonObject Body)> Generate(Random random, JsonNode valid, int count)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(valid);
        for (var i = 0; i < count; i++)
        {
            var mutant = JsonMutations.Generate(random, valid, i, ["application/json"]);
            if (TryParse(mutant.Body) is { } body)
            {
                yield return (mutant, body);
            }
        }
    }

    private static JsonObject? TryParse(byte[] bytes)
    {
        try
        {
            return CanonicalJson.Parse(bytes) as JsonObject;
        }
        catch (TrustException)
        {
            return null;
        }
    }
}
