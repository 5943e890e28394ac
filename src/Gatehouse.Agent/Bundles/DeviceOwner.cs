using System.Net.Http.Json;
using System.Text.Json;
using Gatehouse.Node.Config;
using Gatehouse.Node.Credentials;
using Gatehouse.Wire.Config;

namespace Gatehouse.Agent.Bundles;

/// <summary>
/// Who the device belongs to (<c>GET /config/agent/self</c>): its user's groups choose the app profile.
/// The last answer is kept owner-only in the state directory, so that a restart without the portal
/// still applies the profile meant for the user.
/// </summary>
internal static class DeviceOwner
{
    /// <summary>How long one request may take.</summary>
    public static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Where the last answer is kept.</summary>
    public static string FilePath(string stateDirectory) => Path.Combine(stateDirectory, "device", "self.json");

    /// <summary>The groups of the last answer kept; none when there is none or it cannot be read.</summary>
    public static IReadOnlyCollection<Guid> LoadGroups(string stateDirectory)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(FilePath(stateDirectory)), AgentBundleJson.Default.DeviceSelf)?.GroupIds.ToHashSet() ?? [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return [];
        }
    }

    /// <summary>Asks the portal; null when it cannot be reached or refuses (the kept answer stays).</summary>
    public static async Task<DeviceSelf?> FetchAsync(NodeCredentials credentials, CancellationToken ct)
    {
        using var client = NodeHttpClient.Create(credentials, FetchTimeout);
        try
        {
            return await client.GetFromJsonAsync($"{Wire.WireVersion.ApiPrefix}/config/agent/self", AgentBundleJson.Default.DeviceSelf, ct);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Keeps <paramref name="self"/>, readable by the agent's user only.</summary>
    public static void Save(string stateDirectory, DeviceSelf self)
    {
        var path = FilePath(stateDirectory);
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new FileStream(temporary, options))
        {
            JsonSerializer.Serialize(file, self, AgentBundleJson.Default.DeviceSelf);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
