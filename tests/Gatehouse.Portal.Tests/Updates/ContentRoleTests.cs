using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Cli;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Portal.Updates;
using Gatehouse.Testing;
using Gatehouse.Tuf.Client;
using Gatehouse.Tuf.Keys;
using Gatehouse.Tuf.Metadata;
using Gatehouse.Tuf.Repository;
using Gatehouse.Wire.Api;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Portal.Tests.Updates;

/// <summary>
/// Each content channel is signed by a role of its own (<c>content-CHANNEL</c>, trusted for
/// <c>content/CHANNEL/*</c> only): in a new repository, in one an older build made with the single
/// <c>content</c> role, and, when the offline targets key is not on the machine, with the
/// operator told what to run instead of a failure.
/// </summary>
public sealed class ContentRoleTests
{
    private static readonly string BypassRole = UpdateRepository.ContentRoleOf("bypass");

    [Fact]
    public async Task A_new_repository_signs_bypass_content_with_a_role_trusted_for_bypass_paths_only()
    {
        var clock = new MovableClock();
        await using var portal = await PortalServer.StartAsync(time: clock);
        using var admin = await portal.SignInAsync();

        Assert.Equal(HttpStatusCode.Created, (await PublishAsync(admin, Bypass("1"))).StatusCode);

        var repository = TufRepository.Open(RepositoryOf(portal.DataDirectory));
        var delegations = repository.Targets(RoleNames.Targets)!.Delegations!;
        var bypass = Assert.Single(delegations.Roles, r => r.Name == BypassRole);
        Assert.Equal(["content/bypass/*"], bypass.Paths);
        Assert.True(bypass.Terminating);
        Assert.DoesNotContain(delegations.Roles, r => r.Name == UpdateRepository.LegacyContentRole);
        using var key = TufSigner.FromPemFile(Path.Combine(portal.DataDirectory, "updates", "online-keys", BypassRole + ".pem"));
        Assert.Equal([key.KeyId], bypass.Keys.KeyIds);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(portal.DataDirectory, "updates", "online-keys", BypassRole + ".pem")));
        }

        Assert.Contains("content/bypass/1.json", repository.Targets(BypassRole)!.Targets.Keys);

        var client = NewClient(portal);
        Assert.Equal(Bypass("1"), await DownloadAsync(client.Updater, "content/bypass/1.json"));
        Assert.True(File.Exists(Path.Combine(client.MetadataDirectory, BypassRole + ".json")), "the client verified the content through the bypass role");

        // Past half its lifetime, the role is signed again before clients would see it expire.
        var expires = repository.Targets(BypassRole)!.Expires;
        clock.Advance(TimeSpan.FromDays(16));
        await portal.Services.GetRequiredService<RolloutSupervisor>().EvaluateAsync(CancellationToken.None);
        Assert.True(repository.Targets(BypassRole)!.Expires > expires);
    }

    [Fact]
    public async Task A_repository_with_the_single_content_role_is_moved_to_a_role_per_channel_on_start_and_keeps_its_versions()
    {
        var data = OlderBuildRepository.Create(withContentRole: true, ("1", Bypass("1")));
        var updater = NewDirectoryClient(data);
        Assert.NotNull(await updater.Updater.GetTargetInfoAsync("content/bypass/1.json"));

        await using var portal = await PortalServer.StartOnDataDirectoryAsync(data);
        using var admin = await portal.SignInAsync();

        var listed = await admin.GetFromJsonAsync<List<ContentVersionDto>>("content?channel=bypass", PortalServer.Json);
        Assert.Equal(["1"], listed!.Select(v => v.Version));
        var repository = TufRepository.Open(RepositoryOf(data));
        var delegations = repository.Targets(RoleNames.Targets)!.Delegations!;
        Assert.DoesNotContain(delegations.Roles, r => r.Name == UpdateRepository.LegacyContentRole);
        Assert.Contains("content/bypass/1.json", repository.Targets(BypassRole)!.Targets.Keys);

        // The client that trusted the old metadata follows the new targets to the new role.
        var followed = new TufUpdater(updater.Options(portal), new HttpRemoteFiles(portal.CreateClient()));
        Assert.Equal(Bypass("1"), await DownloadAsync(followed, "content/bypass/1.json"));
        Assert.Equal(HttpStatusCode.Created, (await PublishAsync(admin, Bypass("2"))).StatusCode);
        Assert.Contains("content/bypass/2.json", repository.Targets(BypassRole)!.Targets.Keys);
        Assert.Equal(Bypass("2"), await DownloadAsync(new TufUpdater(updater.Options(portal), new HttpRemoteFiles(portal.CreateClient())), "content/bypass/2.json"));
    }

    [Fact]
    public async Task Without_the_targets_key_a_channel_with_no_role_is_refused_with_the_command_that_delegates_one()
    {
        var data = OlderBuildRepository.Create(withContentRole: false);
        // The targets key is offline: outside the data directory, which the portal deletes when it stops.
        var targetsKey = Path.Combine(data + "-offline-keys", "targets.pem");
        Directory.CreateDirectory(Path.GetDirectoryName(targetsKey)!);
        using var offline = new DeletedAtEnd(Path.GetDirectoryName(targetsKey)!);
        File.Move(Path.Combine(data, "updates", "offline-keys", "targets.pem"), targetsKey);
        var logs = new RecordedLogs();

        await using var portal = await PortalServer.StartOnDataDirectoryAsync(data, s => s.AddSingleton<ILoggerProvider>(logs));
        using var admin = await portal.SignInAsync();

        var command = $"gatehouse release delegate {BypassRole} --repo {RepositoryOf(data)} --path 'content/bypass/*' --terminating --role-key {Path.Combine(data, "updates", "online-keys", BypassRole + ".pem")} --key TARGETS-KEY.pem";
        var warning = Assert.Single(logs.Entries, e => e.Id == 1603);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains(command, warning.Message, StringComparison.Ordinal);
        var refused = await Problem.ReadAsync(await PublishAsync(admin, Bypass("1")), HttpStatusCode.Conflict);
        Assert.Contains(command, refused.Detail, StringComparison.Ordinal);

        // Everything else is served: the content list, and a client's verified refresh.
        Assert.Empty((await admin.GetFromJsonAsync<List<ContentVersionDto>>("content", PortalServer.Json))!);
        await NewClient(portal).Updater.RefreshAsync();

        // The command runs as written, and the channel publishes from then on.
        var args = command.Replace("TARGETS-KEY.pem", targetsKey, StringComparison.Ordinal).Replace("'", "", StringComparison.Ordinal).Split(' ')[1..];
        Assert.Equal(0, await RunCliAsync(args));
        Assert.Equal(HttpStatusCode.Created, (await PublishAsync(admin, Bypass("1"))).StatusCode);
        Assert.Equal(Bypass("1"), await DownloadAsync(NewClient(portal).Updater, "content/bypass/1.json"));
    }

    [Fact]
    public async Task Without_the_targets_key_a_repository_with_the_single_content_role_keeps_publishing_through_it()
    {
        var data = OlderBuildRepository.Create(withContentRole: true, ("1", Bypass("1")));
        File.Delete(Path.Combine(data, "updates", "offline-keys", "targets.pem"));
        var logs = new RecordedLogs();

        await using var portal = await PortalServer.StartOnDataDirectoryAsync(data, s => s.AddSingleton<ILoggerProvider>(logs));
        using var admin = await portal.SignInAsync();

        Assert.Equal(LogLevel.Warning, Assert.Single(logs.Entries, e => e.Id == 1604).Level);
        Assert.Equal(HttpStatusCode.Created, (await PublishAsync(admin, Bypass("2"))).StatusCode);
        var listed = await admin.GetFromJsonAsync<List<ContentVersionDto>>("content", PortalServer.Json);
        Assert.Equal(["1", "2"], listed!.Select(v => v.Version));
        var repository = TufRepository.Open(RepositoryOf(data));
        Assert.Contains(repository.Targets(RoleNames.Targets)!.Delegations!.Roles, r => r.Name == UpdateRepository.LegacyContentRole);
        Assert.Equal(Bypass("2"), await DownloadAsync(NewClient(portal).Updater, "content/bypass/2.json"));
    }

    internal static string RepositoryOf(string dataDirectory) => Path.Combine(dataDirectory, "updates", "repository");

    internal static async Task<HttpResponseMessage> PublishAsync(HttpClient admin, byte[] content) =>
        await admin.PostAsync("content/bypass", new ByteArrayContent(content) { Headers = { ContentType = new("application/json") } });

    internal static async Task<byte[]> DownloadAsync(TufUpdater updater, string targetPath)
    {
        await updater.RefreshAsync();
        var target = await updater.GetTargetInfoAsync(targetPath);
        Assert.NotNull(target);
        return await File.ReadAllBytesAsync(await updater.DownloadTargetAsync(target));
    }

    internal static async Task<int> RunCliAsync(string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var environment = new CliEnvironment(stdout, stderr, new StringReader(""), _ => null, interactive: false, colour: false);
        var code = await GatehouseCommand.RunAsync(args, environment, TimeProvider.System, CancellationToken.None);
        Assert.True(code == 0, stderr.ToString());
        return code;
    }

    internal static (TufUpdater Updater, string MetadataDirectory) NewClient(PortalServer portal)
    {
        var client = new TrustingClient(portal.DataDirectory, File.ReadAllBytes(Path.Combine(RepositoryOf(portal.DataDirectory), "metadata", "1.root.json")));
        return (new TufUpdater(client.Options(portal), new HttpRemoteFiles(portal.CreateClient())), client.MetadataDirectory);
    }

    // A client that starts from the repository's files on disk, before any portal serves them.
    private static (TufUpdater Updater, Func<PortalServer, UpdaterOptions> Options) NewDirectoryClient(string dataDirectory)
    {
        var repository = RepositoryOf(dataDirectory);
        var client = new TrustingClient(dataDirectory, File.ReadAllBytes(Path.Combine(repository, "metadata", "1.root.json")));
        var options = new UpdaterOptions
        {
            MetadataDirectory = client.MetadataDirectory,
            MetadataBaseUrl = new Uri(Path.Combine(repository, "metadata") + "/"),
            TargetBaseUrl = new Uri(Path.Combine(repository, "targets") + "/"),
            TargetDirectory = client.TargetDirectory,
        };
        return (new TufUpdater(options, new DirectoryRemoteFiles(repository)), client.Options);
    }

    internal static byte[] Bypass(string version) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
    {
        channel = "bypass", schemaVersion = 1, version, fields = new[] { "kind", "value", "ports", "note" }, records = new[] { new[] { "domain", "*.teams.microsoft.com", "3478", "Teams media" } },
    }));

    /// <summary>A directory deleted, with what it holds, when the test ends.</summary>
    private sealed class DeletedAtEnd(string path) : IDisposable
    {
        public void Dispose() => Directory.Delete(path, recursive: true);
    }

    /// <summary>
    /// A TUF client's own directory, trusting the first root it is given. It lies inside the portal's data
    /// directory, which is deleted with the portal, so that no test leaves one behind.
    /// </summary>
    private sealed class TrustingClient
    {
        private readonly string _directory;

        public TrustingClient(string dataDirectory, byte[] firstRoot)
        {
            _directory = Path.Combine(dataDirectory, "test-tuf-clients", Guid.NewGuid().ToString("N"));
            TufUpdater.Initialize(MetadataDirectory, firstRoot);
        }

        public string MetadataDirectory => Path.Combine(_directory, "metadata");

        public string TargetDirectory => Path.Combine(_directory, "targets");

        public UpdaterOptions Options(PortalServer portal) => new()
        {
            MetadataDirectory = MetadataDirectory,
            MetadataBaseUrl = new Uri(portal.BaseAddress, "/tuf/metadata/"),
            TargetBaseUrl = new Uri(portal.BaseAddress, "/tuf/targets/"),
            TargetDirectory = TargetDirectory,
        };
    }

    /// <summary>
    /// A data directory with the update repository an older portal made on its first start: keys in
    /// offline-keys and online-keys, targets delegating <c>agent/*/*</c> to releases, (optionally)
    /// <c>content/*/*</c> to the one online <c>content</c> role, and <c>rollouts/*/*</c> to rollouts.
    /// Without the content role it stands for a build older than the bypass channel.
    /// </summary>
    private static class OlderBuildRepository
    {
        public static string Create(bool withContentRole, params (string Version, byte[] Bytes)[] bypass)
        {
            var data = Directory.CreateTempSubdirectory("gatehouse-portal-test-").FullName;
            var updates = Path.Combine(data, "updates");
            var delegatedRoles = withContentRole ? new[] { "releases", "content", "rollouts" } : ["releases", "rollouts"];
            var signers = new Dictionary<string, TufSigner>();
            try
            {
                foreach (var role in new[] { "root", "targets", "snapshot", "timestamp" }.Concat(delegatedRoles))
                {
                    signers[role] = TufSigner.GenerateEcdsa();
                    var folder = Path.Combine(updates, role is "root" or "targets" or "releases" ? "offline-keys" : "online-keys");
                    Directory.CreateDirectory(folder);
                    File.WriteAllText(Path.Combine(folder, role + ".pem"), signers[role].ExportPrivateKeyPem());
                }

                var expires = Whole(DateTimeOffset.UtcNow.AddDays(30));
                var topLevel = new[] { "root", "targets", "snapshot", "timestamp" };
                var repository = TufRepository.Create(
                    Path.Combine(updates, "repository"),
                    new RootMetadata(1, expires, topLevel.ToDictionary(r => signers[r].KeyId, r => signers[r].PublicKey), topLevel.ToDictionary(r => r, r => new RoleKeys([signers[r].KeyId], 1)), consistentSnapshot: true),
                    topLevel.ToDictionary(r => r, r => (IReadOnlyList<TufSigner>)[signers[r]]),
                    _ => expires);

                var delegations = new Delegations(
                    delegatedRoles.ToDictionary(r => signers[r].KeyId, r => signers[r].PublicKey),
                    [.. delegatedRoles.Select(r => new DelegatedRole(r, new RoleKeys([signers[r].KeyId], 1), Terminating: true, [$"{(r == "releases" ? "agent" : r)}/*/*"]))]);
                repository.SignTargets("targets", new TargetsMetadata(0, expires, new Dictionary<string, TargetFile>(), delegations), [signers["targets"]]);
                foreach (var role in delegatedRoles)
                {
                    repository.SignTargets(role, new TargetsMetadata(0, expires, new Dictionary<string, TargetFile>()), [signers[role]]);
                }

                if (bypass.Length > 0)
                {
                    var content = new Dictionary<string, TargetFile>();
                    foreach (var (version, bytes) in bypass)
                    {
                        var path = UpdateRepository.ContentTarget("bypass", version);
                        content[path] = TargetFile.Describe(path, bytes, new JsonObject { ["channel"] = "bypass", ["version"] = version, ["records"] = 1L });
                        repository.StoreArtifact(path, bytes, content[path].Custom);
                    }

                    repository.SignTargets("content", new TargetsMetadata(0, expires, content), [signers["content"]]);
                }

                repository.SignSnapshot([signers["snapshot"]], expires);
                repository.SignTimestamp([signers["timestamp"]], expires);
                return data;
            }
            finally
            {
                foreach (var signer in signers.Values)
                {
                    signer.Dispose();
                }
            }
        }

        private static DateTimeOffset Whole(DateTimeOffset at) => new(at.Ticks - (at.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
    }
}
