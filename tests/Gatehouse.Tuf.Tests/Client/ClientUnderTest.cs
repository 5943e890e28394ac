using Gatehouse.Tuf.Client;
using Gatehouse.Tuf.Metadata;
using Gatehouse.Tuf.Tests.Repository;

namespace Gatehouse.Tuf.Tests.Client;

/// <summary>
/// A TUF client with its own metadata and target directories, initialised with the simulator's
/// current root, fetching from a real HTTP server on loopback. Each update is a new
/// <see cref="TufUpdater"/>, as each run of the updater service would be.
/// </summary>
internal sealed class ClientUnderTest : IAsyncDisposable
{
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private ClientUnderTest(RepositoryServer server, string directory)
    {
        Server = server;
        Directory = directory;
        // Every client starts from the first root, as one shipped with the agent would.
        TufUpdater.Initialize(MetadataDirectory, server.Repository.Files["metadata/1.root.json"]);
    }

    public RepositoryServer Server { get; }

    public RepositorySimulator Repository => Server.Repository;

    public string Directory { get; }

    public string MetadataDirectory => Path.Combine(Directory, "metadata");

    public string TargetDirectory => Path.Combine(Directory, "targets");

    /// <summary>The time the client believes it is; the repository's by default.</summary>
    public DateTimeOffset? Now { get; set; }

    public static async Task<ClientUnderTest> StartAsync(RepositorySimulator repository)
    {
        var server = await RepositoryServer.StartAsync(repository);
        var directory = Path.Combine(Path.GetTempPath(), "gatehouse-tuf-" + Guid.NewGuid().ToString("N"));
        return new ClientUnderTest(server, directory);
    }

    public TufUpdater NewUpdater() => new(
        new UpdaterOptions
        {
            MetadataDirectory = MetadataDirectory,
            MetadataBaseUrl = Server.MetadataUrl,
            TargetBaseUrl = Server.TargetsUrl,
            TargetDirectory = TargetDirectory,
        },
        new HttpRemoteFiles(http),
        new FixedClock(Now ?? Repository.Now));

    public async Task<TufUpdater> RefreshAsync()
    {
        var updater = NewUpdater();
        await updater.RefreshAsync();
        return updater;
    }

    public async Task<TufException> RefreshFailsAsync() => await Assert.ThrowsAsync<TufException>(() => NewUpdater().RefreshAsync());

    public async Task<string> DownloadAsync(string targetPath)
    {
        var updater = NewUpdater();
        var target = await updater.GetTargetInfoAsync(targetPath) ?? throw new TufException(TufFailure.UnknownTarget, targetPath);
        return updater.FindCachedTarget(target) ?? await updater.DownloadTargetAsync(target);
    }

    /// <summary>The stored metadata of <paramref name="role"/>, parsed, or <see langword="null"/>.</summary>
    public long? StoredVersion(string role)
    {
        var bytes = new MetadataStore(MetadataDirectory).Read(role);
        return bytes is null ? null : Fields(bytes)["version"]!.GetValue<long>();
    }

    public byte[]? Stored(string role) => new MetadataStore(MetadataDirectory).Read(role);

    public async ValueTask DisposeAsync()
    {
        http.Dispose();
        await Server.DisposeAsync();
        Repository.Dispose();
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    private static System.Text.Json.Nodes.JsonObject Fields(byte[] bytes) => SignedMetadata.Parse(bytes).Signed;

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
