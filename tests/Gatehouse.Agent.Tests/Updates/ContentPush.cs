using System.Text;
using System.Text.Json;
using Gatehouse.Testing.Portal;
using Gatehouse.Tuf.Keys;
using Gatehouse.Tuf.Metadata;
using Gatehouse.Tuf.Repository;

namespace Gatehouse.Agent.Tests.Updates;

/// <summary>Bypass content for agent tests: published through the portal, or forced into its repository past the portal's check.</summary>
internal static class ContentPush
{
    public static async Task PublishAsync(AgentFixture fixture, byte[] content)
    {
        var response = await fixture.Admin.PostAsync("content/bypass", Json(content));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public static void ForceIntoRepository(TestPortal portal, string version, byte[] content)
    {
        var updates = Path.Combine(portal.DataDirectory, "updates");
        var repository = TufRepository.Open(Path.Combine(updates, "repository"));
        var role = Gatehouse.Portal.Updates.UpdateRepository.ContentRoleOf("bypass");
        using var contentKey = TufSigner.FromPemFile(Path.Combine(updates, "online-keys", role + ".pem"));
        using var snapshotKey = TufSigner.FromPemFile(Path.Combine(updates, "online-keys", "snapshot.pem"));
        using var timestampKey = TufSigner.FromPemFile(Path.Combine(updates, "online-keys", "timestamp.pem"));
        var path = $"content/bypass/{version}.json";
        var signed = repository.Targets(role)!;
        var target = TargetFile.Describe(path, content, new System.Text.Json.Nodes.JsonObject { ["channel"] = "bypass", ["version"] = version, ["records"] = 1L });
        repository.SignTargets(role, new TargetsMetadata(0, DateTimeOffset.UtcNow.AddDays(1), new Dictionary<string, TargetFile>(signed.Targets) { [path] = target }), [contentKey]);
        repository.StoreArtifact(path, content);
        repository.SignSnapshot([snapshotKey], DateTimeOffset.UtcNow.AddDays(1));
        repository.SignTimestamp([timestampKey], DateTimeOffset.UtcNow.AddDays(1));
    }

    public static ByteArrayContent Json(byte[] content) => new(content) { Headers = { ContentType = new("application/json") } };

    public static byte[] Bypass(string version, string[] record) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
    {
        channel = "bypass", schemaVersion = 1, version, fields = new[] { "kind", "value", "ports", "note" }, records = new[] { record },
    }));

    public static byte[] OneFieldTooMany(string version) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
    {
        channel = "bypass", schemaVersion = 1, version, fields = new[] { "kind", "value", "ports", "note", "extra" }, records = new[] { new[] { "domain", "media.example", "3478", "media", "21st field" } },
    }));
}
