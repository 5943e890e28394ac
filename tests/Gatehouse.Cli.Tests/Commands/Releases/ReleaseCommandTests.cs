using Gatehouse.Cli.Tests.Scripted;
using Gatehouse.Tuf.Client;

namespace Gatehouse.Cli.Tests.Commands.Releases;

/// <summary>
/// <c>gatehouse release</c> builds a repository with keys from files; a TUF client that trusts
/// its first root then verifies and downloads what was added.
/// </summary>
public sealed class ReleaseCommandTests : IDisposable
{
    private readonly CliRunner cli = new();

    private string Keys => Path.Combine(cli.Folder, "keys");

    private string Repo => Path.Combine(cli.Folder, "repo");

    [Fact]
    public async Task A_repository_built_offline_with_a_delegated_content_channel_verifies_on_a_client()
    {
        await CreateRepositoryAsync();
        await File.WriteAllTextAsync(Path.Combine(cli.Folder, "categories.json"), """{"schema":1}""");
        await File.WriteAllTextAsync(Path.Combine(cli.Folder, "agent.tar.gz"), "agent 1.4.0");

        await Ok("release", "delegate", "content-categories", "--repo", Repo, "--path", "content/categories/*", "--role-key", Key("content"), "--key", Key("targets"));
        await Ok("release", "add", Path.Combine(cli.Folder, "categories.json"), "--repo", Repo, "--path", "content/categories/1.json", "--role", "content-categories", "--key", Key("content"));
        var added = await Ok("release", "add", Path.Combine(cli.Folder, "agent.tar.gz"), "--repo", Repo, "--path", "agent/1.4.0/gatehouse-agent.tar.gz", "--key", Key("targets"));
        // The portal signs snapshots of its own repository: the next step is said for both cases.
        Assert.EndsWith("clients see it in the next snapshot (the portal signs one within a minute for its own repository; elsewhere run `gatehouse release publish`)\n", added.Stdout, StringComparison.Ordinal);
        await Ok("release", "publish", "--repo", Repo, "--snapshot-key", Key("snapshot"), "--timestamp-key", Key("timestamp"));

        var updater = NewClient();
        await updater.RefreshAsync();
        var content = await updater.GetTargetInfoAsync("content/categories/1.json");
        var agent = await updater.GetTargetInfoAsync("agent/1.4.0/gatehouse-agent.tar.gz");
        Assert.NotNull(content);
        Assert.NotNull(agent);
        Assert.Equal("""{"schema":1}""", await File.ReadAllTextAsync(await updater.DownloadTargetAsync(content)));
        Assert.Equal("agent 1.4.0", await File.ReadAllTextAsync(await updater.DownloadTargetAsync(agent)));
    }

    [Fact]
    public async Task A_key_that_is_not_the_roles_is_refused_and_leaves_the_repository_unchanged()
    {
        await CreateRepositoryAsync();
        await File.WriteAllTextAsync(Path.Combine(cli.Folder, "evil"), "evil");
        var before = Directory.EnumerateFiles(Repo, "*", SearchOption.AllDirectories).Order().ToList();

        var run = await cli.RunAsync("release", "add", Path.Combine(cli.Folder, "evil"), "--repo", Repo, "--path", "agent/evil", "--key", Key("content"));

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains("signed by 0 of the 1 keys", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Directory.EnumerateFiles(Repo, "*", SearchOption.AllDirectories).Order().ToList());
    }

    [Fact]
    public async Task A_root_threshold_above_the_keys_given_is_a_usage_error()
    {
        await MakeKeysAsync();

        var run = await cli.RunAsync("release", "repo", "create", "--repo", Repo, "--root-key", Key("root1"), "--root-threshold", "2",
            "--targets-key", Key("targets"), "--snapshot-key", Key("snapshot"), "--timestamp-key", Key("timestamp"));

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.False(Directory.Exists(Path.Combine(Repo, "metadata")));
    }

    [Fact]
    public async Task A_key_file_is_never_overwritten()
    {
        Directory.CreateDirectory(Keys);
        await Ok("release", "key", "create", Key("a"));
        var first = await File.ReadAllTextAsync(Key("a"));

        var again = await cli.RunAsync("release", "key", "create", Key("a"));

        Assert.Equal(ExitCodes.BadInput, again.ExitCode);
        Assert.Equal($"error: {Key("a")} exists; a key file is never overwritten\n", again.Stderr);
        Assert.Equal(first, await File.ReadAllTextAsync(Key("a")));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Key("a")));
        }
    }

    [Fact]
    public async Task Metadata_edited_on_disk_is_never_signed_over()
    {
        // Anyone who could write the folder (the portal's host, for its repository) had the next release add sign their edit.
        await CreateRepositoryAsync();
        await File.WriteAllTextAsync(Path.Combine(cli.Folder, "good.tar.gz"), "agent 1.0.0");
        await Ok("release", "add", Path.Combine(cli.Folder, "good.tar.gz"), "--repo", Repo, "--path", "agent/1.0.0/a.tar.gz", "--key", Key("targets"));
        var latest = Path.Combine(Repo, "metadata", "2.targets.json");
        await File.WriteAllTextAsync(latest, (await File.ReadAllTextAsync(latest)).Replace("agent/1.0.0/a.tar.gz", "agent/6.6.6/a.tar.gz", StringComparison.Ordinal));
        var before = Directory.EnumerateFiles(Repo, "*", SearchOption.AllDirectories).Order().ToList();

        var run = await cli.RunAsync("release", "add", Path.Combine(cli.Folder, "good.tar.gz"), "--repo", Repo, "--path", "agent/1.1.0/a.tar.gz", "--key", Key("targets"));

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains("targets version 2", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Directory.EnumerateFiles(Repo, "*", SearchOption.AllDirectories).Order().ToList());
    }

    [Fact]
    public async Task An_artifact_is_never_rewritten_and_a_role_lists_only_the_paths_it_is_trusted_for()
    {
        await CreateRepositoryAsync();
        await File.WriteAllTextAsync(Path.Combine(cli.Folder, "one.json"), "one");
        await File.WriteAllTextAsync(Path.Combine(cli.Folder, "two.json"), "two");
        await Ok("release", "delegate", "content-bypass", "--repo", Repo, "--path", "content/bypass/*", "--role-key", Key("content"), "--key", Key("targets"));
        await Ok("release", "add", Path.Combine(cli.Folder, "one.json"), "--repo", Repo, "--path", "content/bypass/1.json", "--role", "content-bypass", "--key", Key("content"));

        var same = await cli.RunAsync("release", "add", Path.Combine(cli.Folder, "one.json"), "--repo", Repo, "--path", "content/bypass/1.json", "--role", "content-bypass", "--key", Key("content"));
        var rewritten = await cli.RunAsync("release", "add", Path.Combine(cli.Folder, "two.json"), "--repo", Repo, "--path", "content/bypass/1.json", "--role", "content-bypass", "--key", Key("content"));
        var elsewhere = await cli.RunAsync("release", "add", Path.Combine(cli.Folder, "two.json"), "--repo", Repo, "--path", "agent/1/x.tgz", "--role", "content-bypass", "--key", Key("content"));

        Assert.Equal(0, same.ExitCode);
        Assert.Equal(ExitCodes.Conflict, rewritten.ExitCode);
        Assert.Contains("a published artifact is never rewritten", rewritten.Stderr, StringComparison.Ordinal);
        Assert.Equal("one", await File.ReadAllTextAsync(Path.Combine(Repo, "targets", "content", "bypass", "1.json")));
        Assert.Equal(ExitCodes.BadInput, elsewhere.ExitCode);
        Assert.Contains("content-bypass is not trusted for agent/1/x.tgz", elsewhere.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Snapshot_and_timestamp_keys_given_the_wrong_way_round_are_refused_and_nothing_is_written()
    {
        await CreateRepositoryAsync();
        var before = Directory.EnumerateFiles(Repo, "*", SearchOption.AllDirectories).Order().ToList();

        var run = await cli.RunAsync("release", "publish", "--repo", Repo, "--snapshot-key", Key("timestamp"), "--timestamp-key", Key("snapshot"));

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains("snapshot", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Directory.EnumerateFiles(Repo, "*", SearchOption.AllDirectories).Order().ToList());
    }

    [Theory]
    [InlineData("2")]
    [InlineData("0")]
    public async Task A_delegation_threshold_its_keys_cannot_meet_is_a_usage_error_and_writes_nothing(string threshold)
    {
        // The delegation was signed into the parent, then the role's first version refused: half a repository, stuck.
        await CreateRepositoryAsync();
        var before = Directory.EnumerateFiles(Repo, "*", SearchOption.AllDirectories).Order().ToList();

        var run = await cli.RunAsync("release", "delegate", "content-cat", "--repo", Repo, "--path", "content/cat/*", "--role-key", Key("content"), "--threshold", threshold, "--key", Key("targets"));

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Equal(before, Directory.EnumerateFiles(Repo, "*", SearchOption.AllDirectories).Order().ToList());
    }

    [Fact]
    public async Task An_expiry_beyond_ten_years_is_a_usage_error_not_a_crash()
    {
        await MakeKeysAsync();

        var run = await cli.RunAsync("release", "repo", "create", "--repo", Repo, "--root-key", Key("root1"), "--targets-key", Key("targets"),
            "--snapshot-key", Key("snapshot"), "--timestamp-key", Key("timestamp"), "--expires-days", "99999999");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("--expires-days must be 1 to 3650", run.Stderr, StringComparison.Ordinal);
    }

    public void Dispose() => cli.Dispose();

    private string Key(string name) => Path.Combine(Keys, name + ".pem");

    private async Task MakeKeysAsync()
    {
        Directory.CreateDirectory(Keys);
        foreach (var name in new[] { "root1", "root2", "targets", "snapshot", "timestamp", "content" })
        {
            await Ok("release", "key", "create", Key(name));
        }
    }

    private async Task CreateRepositoryAsync()
    {
        await MakeKeysAsync();
        await Ok("release", "repo", "create", "--repo", Repo, "--root-key", Key("root1"), "--root-key", Key("root2"), "--root-threshold", "2",
            "--targets-key", Key("targets"), "--snapshot-key", Key("snapshot"), "--timestamp-key", Key("timestamp"));
    }

    private TufUpdater NewClient()
    {
        var metadata = Path.Combine(cli.Folder, "client", "metadata");
        TufUpdater.Initialize(metadata, File.ReadAllBytes(Path.Combine(Repo, "metadata", "1.root.json")));
        return new TufUpdater(
            new UpdaterOptions
            {
                MetadataDirectory = metadata,
                MetadataBaseUrl = new Uri(Path.Combine(Repo, "metadata") + "/"),
                TargetBaseUrl = new Uri(Path.Combine(Repo, "targets") + "/"),
                TargetDirectory = Path.Combine(cli.Folder, "client", "targets"),
            },
            new DirectoryRemoteFiles(Repo));
    }

    private async Task<CliRun> Ok(params string[] args)
    {
        var run = await cli.RunAsync(args);
        Assert.True(run.ExitCode == ExitCodes.Ok, $"gatehouse {string.Join(' ', args)} exited {run.ExitCode}: {run.Stderr}");
        return run;
    }
}
