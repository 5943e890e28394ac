using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Updates.Slots;

namespace Gatehouse.Updates.Tests.Content;

/// <summary>Bypass content files, good and bad, and a quick way to put them into slots.</summary>
internal static class SampleContent
{
    public static readonly string[] Fields = ["kind", "value", "ports", "note"];

    public static byte[] Bypass(string version, string[]? fields = null, params string[][] records)
    {
        fields ??= Fields;
        if (records.Length == 0)
        {
            records = [["domain", "*.teams.microsoft.com", "3478,3479", "Teams media"], ["cidr", "52.112.0.0/14", "", "Teams media"]];
        }

        var document = new JsonObject
        {
            ["channel"] = "bypass",
            ["schemaVersion"] = 1,
            ["version"] = version,
            ["fields"] = new JsonArray([.. fields.Select(f => (JsonNode)f)]),
            ["records"] = new JsonArray([.. records.Select(r => (JsonNode)new JsonArray([.. r.Select(v => (JsonNode)v)]))]),
        };
        return Encoding.UTF8.GetBytes(document.ToJsonString());
    }

    /// <summary>The July 2024 file: one field more than the agent reads (5 declared, every record with 5 values).</summary>
    public static byte[] OneFieldTooMany(string version) =>
        Bypass(version, [.. Fields, "extra"], ["domain", "*.example.com", "443", "note", "21st field"]);

    public static void Stage(SlotStore slots, string version, byte[] bytes) =>
        slots.Stage(version, bytes, Convert.ToHexStringLower(SHA256.HashData(bytes)));

    public static void StageAndTry(SlotStore slots, string version, byte[] bytes)
    {
        Stage(slots, version, bytes);
        slots.BeginTrial();
    }

    /// <summary>Commits <paramref name="version"/> as a trial that passed.</summary>
    public static void Commit(SlotStore slots, string version, byte[] bytes)
    {
        StageAndTry(slots, version, bytes);
        slots.StartTrial();
        slots.Commit();
    }
}
