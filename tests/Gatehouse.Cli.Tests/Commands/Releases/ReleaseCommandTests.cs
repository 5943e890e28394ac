using System.Globalization;
using System.Text.Json.Nodes;
using Gatehouse.Cli.Tests.Scripted;
using Gatehouse.Tuf;
using Gatehouse.Tuf.Client;
using Gatehouse.Tuf.Keys;
using Gatehouse.Tuf.Metadata;

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
        Assert.Contains("signed by 0 of the 1 key it needs", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Directory.EnumerateFiles(Repo, "*", SearchOption.AllDirectories).Order().ToList());
    }

    [Fact]
    public async Task A_root_threshold_above_the_keys_given_is_a_usage_error()
    {
        await MakeKeysAsync();

        var run = await cli.RunAsync("release", "repo", "create", "--repo", Repo, "--root-key", Key("root1"), "--root-threshold", "2",
            "--targets-key", Key("targets"), "--snapshot-key", Key("snapshot"), "--timestamp-key", Key("timestamp"));

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Equal("error: --root-threshold must be between 1 and the 1 root key given\n", run.Stderr);
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

    [Fact]
    public async Task Root_sign_without_key_options_renews_root_and_a_client_at_root_1_follows_it()
    {
        await CreateRepositoryAsync(expiresDays: 20);
        await NewClient().RefreshAsync();

        var signed = await Ok("release", "root", "sign", "--repo", Repo, "--key", Key("root1"), "--key", Key("root2"), "--expires-days", "400");

        Assert.Matches(@"^root version 2 expires \d{4}-\d\d-\d\d \d\d:\d\dZ\n$", signed.Stdout);
        // Targets is still within 30 days of its expiry: the command says how to renew it.
        Assert.Contains($"warning: targets expires at", signed.Stderr, StringComparison.Ordinal);
        Assert.Contains($"renew it: gatehouse release renew --repo {Repo} --key TARGETS-KEY.pem", signed.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("warning: root", signed.Stderr, StringComparison.Ordinal);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(Repo, "metadata", "2.root.json")), await File.ReadAllBytesAsync(Path.Combine(Repo, "metadata", "root.json")));
        Assert.False(File.Exists(Path.Combine(Repo, "metadata", "2.targets.json")));
        await NewClient(keepState: true).RefreshAsync();
        Assert.Equal(2, RootVersionOf(Path.Combine(cli.Folder, "client", "metadata", "root.json")));
    }

    [Fact]
    public async Task Every_top_level_role_rotated_by_root_sign_takes_over_and_the_client_downloads_what_the_new_targets_key_signs()
    {
        await CreateRepositoryAsync();
        await NewClient().RefreshAsync();
        foreach (var name in new[] { "root3", "targets2", "snapshot2", "timestamp2" })
        {
            await Ok("release", "key", "create", Key(name));
        }

        var signed = await Ok("release", "root", "sign", "--repo", Repo, "--key", Key("root1"), "--key", Key("root2"), "--root-key", Key("root3"),
            "--root-threshold", "1", "--targets-key", Key("targets2"), "--snapshot-key", Key("snapshot2"), "--timestamp-key", Key("timestamp2"), "--json");
        // Nothing else signed yet: what root sign left is a repository clients accept.
        await NewClient(keepState: true).RefreshAsync();
        await File.WriteAllTextAsync(Path.Combine(cli.Folder, "agent.tar.gz"), "agent 2.0.0");
        await Ok("release", "add", Path.Combine(cli.Folder, "agent.tar.gz"), "--repo", Repo, "--path", "agent/2.0.0/a.tar.gz", "--key", Key("targets2"));
        await Ok("release", "publish", "--repo", Repo, "--snapshot-key", Key("snapshot2"), "--timestamp-key", Key("timestamp2"));

        var json = JsonNode.Parse(signed.Stdout)!;
        Assert.Equal(2, json["rootVersion"]!.GetValue<long>());
        Assert.Equal(2, json["resigned"]!["targets"]!.GetValue<long>());
        var updater = NewClient(keepState: true);
        await updater.RefreshAsync();
        Assert.Equal("agent 2.0.0", await File.ReadAllTextAsync(await updater.DownloadTargetAsync((await updater.GetTargetInfoAsync("agent/2.0.0/a.tar.gz"))!)));
        // The replaced keys sign nothing any more.
        var old = await cli.RunAsync("release", "add", Path.Combine(cli.Folder, "agent.tar.gz"), "--repo", Repo, "--path", "agent/2.0.1/a.tar.gz", "--key", Key("targets"));
        Assert.Equal(ExitCodes.BadInput, old.ExitCode);
        var oldRoot = await cli.RunAsync("release", "root", "sign", "--repo", Repo, "--key", Key("root1"), "--key", Key("root2"));
        Assert.Equal(ExitCodes.BadInput, oldRoot.ExitCode);
        Assert.Contains("is not a root key of root version 2", oldRoot.Stderr, StringComparison.Ordinal);
        await Ok("release", "root", "sign", "--repo", Repo, "--key", Key("root3"));
    }

    [Theory]
    [InlineData(ExitCodes.BadInput, "root version 1 needs 2 of its 2 root keys to sign the next version; 1 given", "--key", "root1")]
    [InlineData(ExitCodes.BadInput, "is not a root key of root version 1", "--key", "root1", "--key", "root2", "--key", "targets")]
    [InlineData(ExitCodes.Usage, "--root-threshold must be between 1 and the 1 --root-key file given", "--key", "root1", "--key", "root2", "--root-key", "root1", "--root-threshold", "2")]
    [InlineData(ExitCodes.Usage, "--root-threshold must be between 1 and the 2 keys of the current root", "--key", "root1", "--key", "root2", "--root-threshold", "3")]
    [InlineData(ExitCodes.Usage, "the new root keeps the current root threshold of 2, more than the 1 --root-key file given: give --root-threshold", "--key", "root1", "--key", "root2", "--root-key", "root1")]
    [InlineData(ExitCodes.Usage, "root1.pem is given twice: give each key once", "--key", "root1", "--key", "root2", "--root-key", "root1", "--root-key", "root1")]
    [InlineData(ExitCodes.Usage, "root1-copy.pem are the same key", "--key", "root1", "--key", "root2", "--root-key", "root1", "--root-key", "root1-copy")]
    [InlineData(ExitCodes.Usage, "error: --key ", "--key", "root1", "--key", "root1")]
    [InlineData(ExitCodes.BadInput, "not-a-key.pem", "--key", "root1", "--key", "root2", "--root-key", "not-a-key", "--root-threshold", "1")]
    [InlineData(ExitCodes.Usage, "--targets-key re-signs targets, which needs a new snapshot and timestamp", "--key", "root1", "--key", "root2", "--targets-key", "content")]
    [InlineData(ExitCodes.Usage, "--snapshot-key re-signs snapshot, which needs a new timestamp", "--key", "root1", "--key", "root2", "--snapshot-key", "content")]
    [InlineData(ExitCodes.Usage, "--expires-days must be 1 to 3650", "--key", "root1", "--key", "root2", "--expires-days", "0")]
    [InlineData(ExitCodes.Usage, "--expires-days must be 1 to 3650", "--key", "root1", "--key", "root2", "--expires-days", "3651")]
    public async Task Root_sign_refuses_what_would_not_verify_and_writes_nothing(int exitCode, string message, params string[] options)
    {
        await CreateRepositoryAsync();
        await File.WriteAllTextAsync(Key("not-a-key"), "not a key");
        File.Copy(Key("root1"), Key("root1-copy"));
        var before = Directory.EnumerateFiles(Repo, "*", SearchOption.AllDirectories).Order().Select(f => (f, File.ReadAllText(f))).ToList();
        var args = new List<string> { "release", "root", "sign", "--repo", Repo };
        for (var i = 0; i < options.Length; i += 2)
        {
            args.Add(options[i]);
            args.Add(options[i].EndsWith("-key", StringComparison.Ordinal) ? Key(options[i + 1]) : options[i + 1]);
        }

        var run = await cli.RunAsync([.. args]);

        Assert.Equal(exitCode, run.ExitCode);
        Assert.Contains(message, run.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Directory.EnumerateFiles(Repo, "*", SearchOption.AllDirectories).Order().Select(f => (f, File.ReadAllText(f))).ToList());
    }

    [Fact]
    public async Task The_offline_releases_role_is_warned_of_too_and_any_delegated_role_once_expired()
    {
        // Only root and targets were: agent builds stopped updating when releases expired, without a word.
        await CreateRepositoryAsync();
        await Ok("release", "delegate", "releases", "--repo", Repo, "--path", "agent/*/*", "--role-key", Key("content"), "--key", Key("targets"), "--expires-days", "1");
        await Ok("release", "delegate", "content-bypass", "--repo", Repo, "--path", "content/bypass/*", "--role-key", Key("content"), "--key", Key("targets"), "--expires-days", "1");

        var status = await Ok("release", "status", "--repo", Repo);

        Assert.Contains("warning: releases expires at ", status.Stderr, StringComparison.Ordinal);
        Assert.Contains($"(in 1 day); renew it: gatehouse release renew --repo {Repo} --role releases --key RELEASES-KEY.pem\n", status.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("warning: content-bypass", status.Stderr, StringComparison.Ordinal); // not expired: the portal may sign it online
    }

    [Fact]
    public async Task Commands_that_open_a_repository_warn_while_root_or_targets_expires_within_30_days_and_renew_silences_them()
    {
        await CreateRepositoryAsync(expiresDays: 30);

        var publish = await Ok("release", "publish", "--repo", Repo, "--snapshot-key", Key("snapshot"), "--timestamp-key", Key("timestamp"));
        Assert.Contains($"warning: root expires at ", publish.Stderr, StringComparison.Ordinal);
        // Root needs 2 of its keys here: the command names two.
        Assert.Contains($"(in 30 days); renew it: gatehouse release root sign --repo {Repo} --key ROOT-KEY-1.pem --key ROOT-KEY-2.pem\n", publish.Stderr, StringComparison.Ordinal);
        Assert.Contains($"warning: targets expires at ", publish.Stderr, StringComparison.Ordinal);

        await Ok("release", "root", "sign", "--repo", Repo, "--key", Key("root1"), "--key", Key("root2"));
        var renewed = await Ok("release", "renew", "--repo", Repo, "--key", Key("targets"));
        var quiet = await Ok("release", "publish", "--repo", Repo, "--snapshot-key", Key("snapshot"), "--timestamp-key", Key("timestamp"));

        Assert.StartsWith("targets version 2 expires ", renewed.Stdout, StringComparison.Ordinal);
        Assert.Equal("", renewed.Stderr);
        Assert.Equal("", quiet.Stderr);
        await NewClient().RefreshAsync();
    }

    [Fact]
    public async Task Renew_with_a_key_that_is_not_the_roles_is_refused_and_writes_nothing()
    {
        await CreateRepositoryAsync();
        var before = Directory.EnumerateFiles(Repo, "*", SearchOption.AllDirectories).Order().ToList();

        var run = await cli.RunAsync("release", "renew", "--repo", Repo, "--key", Key("snapshot"));
        var missing = await cli.RunAsync("release", "renew", "--repo", Repo, "--role", "content-nothing", "--key", Key("targets"));

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains("targets is signed by 0 of the 1 key it needs", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotFound, missing.ExitCode);
        Assert.Equal(before, Directory.EnumerateFiles(Repo, "*", SearchOption.AllDirectories).Order().ToList());
    }

    [Theory]
    [InlineData("root", "error: root is renewed with `gatehouse release root sign`, by a threshold of its keys: gatehouse release root sign --repo REPO --key ROOT-KEY-1.pem --key ROOT-KEY-2.pem\n")]
    [InlineData("timestamp", "error: timestamp is renewed with `gatehouse release publish`, which signs a new snapshot and timestamp (the portal does so for its own repository): gatehouse release publish --repo REPO --snapshot-key SNAPSHOT-KEY.pem --timestamp-key TIMESTAMP-KEY.pem\n")]
    public async Task Renew_of_root_or_an_online_role_names_the_command_that_renews_it(string role, string message)
    {
        // It said "the repository has no role root".
        await CreateRepositoryAsync();
        var before = Snapshot();

        var run = await cli.RunAsync("release", "renew", "--repo", Repo, "--role", role, "--key", Key("root1"));

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Equal(message.Replace("REPO", Repo, StringComparison.Ordinal), run.Stderr);
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public async Task Status_lists_each_roles_version_expiry_and_keys_and_json_is_stable()
    {
        await CreateRepositoryAsync();
        await Ok("release", "delegate", "content-bypass", "--repo", Repo, "--path", "content/bypass/*", "--role-key", Key("content"), "--key", Key("targets"));

        var text = await Ok("release", "status", "--repo", Repo);
        var json = JsonNode.Parse((await Ok("release", "status", "--repo", Repo, "--json")).Stdout)!.AsArray();

        Assert.StartsWith("ROLE", text.Stdout, StringComparison.Ordinal);
        Assert.Equal(["root", "targets", "snapshot", "timestamp", "content-bypass"], json.Select(r => r!["role"]!.GetValue<string>()));
        Assert.Equal([1L, 2L, 1L, 1L, 1L], json.Select(r => r!["version"]!.GetValue<long>()));
        using var content = TufSigner.FromPemFile(Key("content"));
        Assert.Equal([content.KeyId], json[4]!["keyIds"]!.AsArray().Select(k => k!.GetValue<string>()));
        Assert.Equal(2, json[0]!["threshold"]!.GetValue<int>());
        Assert.False(json[0]!["expired"]!.GetValue<bool>());
        Assert.Contains(content.KeyId[..12], text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_refuses_a_snapshot_edited_on_disk_as_clients_do()
    {
        // Clients check the snapshot's length and hashes against the timestamp before its signatures.
        await CreateRepositoryAsync();
        var snapshot = Path.Combine(Repo, "metadata", "1.snapshot.json");
        await File.WriteAllTextAsync(snapshot, (await File.ReadAllTextAsync(snapshot)).Replace("\"version\": 1", "\"version\": 1 ", StringComparison.Ordinal).Replace("targets.json", "targets.jsoN", StringComparison.Ordinal));

        var run = await cli.RunAsync("release", "status", "--repo", Repo);

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.StartsWith($"error: clients refuse this repository: {Path.Combine("metadata", "1.snapshot.json")}: snapshot is ", run.Stderr, StringComparison.Ordinal);
        Assert.Contains(" bytes long, not the ", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metadata_files_not_named_as_clients_fetch_them_are_ignored_and_status_names_them()
    {
        // 010.root.json was read as root version 10: "Could not find file 2.root.json". Clients ask for 10.root.json.
        await CreateRepositoryAsync();
        await NewClient().RefreshAsync();
        var metadata = Path.Combine(Repo, "metadata");
        File.Copy(Path.Combine(metadata, "1.root.json"), Path.Combine(metadata, "010.root.json"));
        File.Copy(Path.Combine(metadata, "1.targets.json"), Path.Combine(metadata, "0.targets.json"));

        var status = await Ok("release", "status", "--repo", Repo, "--json");
        await Ok("release", "root", "sign", "--repo", Repo, "--key", Key("root1"), "--key", Key("root2"));
        await Ok("release", "renew", "--repo", Repo, "--key", Key("targets"));
        await Ok("release", "publish", "--repo", Repo, "--snapshot-key", Key("snapshot"), "--timestamp-key", Key("timestamp"));

        Assert.Equal([1L, 1L, 1L, 1L], JsonNode.Parse(status.Stdout)!.AsArray().Select(r => r!["version"]!.GetValue<long>()));
        Assert.Contains($"warning: {Path.Combine(metadata, "0.targets.json")} is ignored: clients fetch metadata as VERSION.ROLE.json", status.Stderr, StringComparison.Ordinal);
        Assert.Contains($"warning: {Path.Combine(metadata, "010.root.json")} is ignored: ", status.Stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(metadata, "2.root.json")));
        Assert.True(File.Exists(Path.Combine(metadata, "2.targets.json")));
        await NewClient(keepState: true).RefreshAsync();
        Assert.Equal(2, RootVersionOf(Path.Combine(cli.Folder, "client", "metadata", "root.json")));
    }

    [Fact]
    public async Task A_root_file_after_a_missing_version_is_refused_naming_both()
    {
        // Clients stop at the missing 2.root.json; once it is written they would fetch 3.root.json, whatever it holds.
        await CreateRepositoryAsync();
        var metadata = Path.Combine(Repo, "metadata");
        File.Copy(Path.Combine(metadata, "1.root.json"), Path.Combine(metadata, "3.root.json"));
        var before = Snapshot();

        var status = await cli.RunAsync("release", "status", "--repo", Repo);
        var sign = await cli.RunAsync("release", "root", "sign", "--repo", Repo, "--key", Key("root1"), "--key", Key("root2"));

        Assert.Equal(ExitCodes.NotFound, status.ExitCode);
        Assert.Equal($"error: {Path.Combine("metadata", "2.root.json")} is missing, yet {Path.Combine("metadata", "3.root.json")} exists: clients fetch root versions one after another " +
            "and stop at the first missing, and a version is never skipped; move the root files after version 1 out of the repository\n", status.Stderr);
        Assert.Equal(ExitCodes.NotFound, sign.ExitCode);
        Assert.Equal(before, Snapshot());
    }

    [Theory]
    [InlineData("1.targets.json", "9.targets.json", "holds version 1, not the version 9 its name says: clients that fetch targets version 9 refuse it")]
    [InlineData("1.snapshot.json", "9.targets.json", "holds snapshot metadata, not the targets metadata its name says: clients that fetch targets version 9 refuse it")]
    [InlineData("1.root.json", "2.root.json", "holds version 1, not the version 2 its name says: clients that fetch root version 2 refuse it")]
    public async Task A_metadata_file_holding_another_version_or_role_than_its_name_says_is_refused_naming_it(string copied, string name, string holds)
    {
        // A stray 9.targets.json holding version 1 was the latest targets: add built version 10 on its content, and publish
        // signed a snapshot listing targets version 9, which every client refuses.
        await CreateRepositoryAsync();
        await File.WriteAllTextAsync(Path.Combine(cli.Folder, "a.tar.gz"), "agent 1.0.0");
        await Ok("release", "add", Path.Combine(cli.Folder, "a.tar.gz"), "--repo", Repo, "--path", "agent/1.0.0/a.tar.gz", "--key", Key("targets"));
        await Ok("release", "publish", "--repo", Repo, "--snapshot-key", Key("snapshot"), "--timestamp-key", Key("timestamp"));
        var metadata = Path.Combine(Repo, "metadata");
        File.Copy(Path.Combine(metadata, copied), Path.Combine(metadata, name));
        var before = Snapshot();

        var publish = await cli.RunAsync("release", "publish", "--repo", Repo, "--snapshot-key", Key("snapshot"), "--timestamp-key", Key("timestamp"));
        var add = await cli.RunAsync("release", "add", Path.Combine(cli.Folder, "a.tar.gz"), "--repo", Repo, "--path", "agent/1.1.0/a.tar.gz", "--key", Key("targets"));
        var status = await cli.RunAsync("release", "status", "--repo", Repo);

        var refusal = $"error: {Path.Combine("metadata", name)} {holds}; move it out of the repository\n";
        Assert.Equal((ExitCodes.BadInput, refusal), (publish.ExitCode, publish.Stderr));
        Assert.Equal((ExitCodes.BadInput, refusal), (add.ExitCode, add.Stderr));
        Assert.Equal((ExitCodes.BadInput, refusal), (status.ExitCode, status.Stderr));
        Assert.Equal(before, Snapshot());
        File.Delete(Path.Combine(metadata, name));
        await Ok("release", "publish", "--repo", Repo, "--snapshot-key", Key("snapshot"), "--timestamp-key", Key("timestamp"));
        await NewClient().RefreshAsync();
    }

    [Fact]
    public async Task A_snapshot_file_holding_another_version_than_its_name_says_is_never_named_by_a_timestamp()
    {
        // A timestamp signed alone (root sign --timestamp-key) names the latest snapshot file, which clients then fetch.
        await CreateRepositoryAsync();
        var metadata = Path.Combine(Repo, "metadata");
        File.Copy(Path.Combine(metadata, "1.snapshot.json"), Path.Combine(metadata, "5.snapshot.json"));
        var before = Snapshot();

        var sign = await cli.RunAsync("release", "root", "sign", "--repo", Repo, "--key", Key("root1"), "--key", Key("root2"), "--timestamp-key", Key("timestamp"));
        var status = await cli.RunAsync("release", "status", "--repo", Repo);

        var refusal = $"error: {Path.Combine("metadata", "5.snapshot.json")} holds version 1, not the version 5 its name says: " +
            "clients that fetch snapshot version 5 refuse it; move it out of the repository\n";
        Assert.Equal((ExitCodes.BadInput, refusal), (sign.ExitCode, sign.Stderr));
        Assert.Equal((ExitCodes.BadInput, refusal), (status.ExitCode, status.Stderr));
        Assert.Equal(before, Snapshot());
    }

    [Theory]
    [InlineData("timestamp", "metadata/timestamp.json: timestamp is signed by 0 of the 1 key it needs; it is signed by the timestamp keys of root version 1")]
    [InlineData("targets", "metadata/1.targets.json: targets is signed by 0 of the 1 key it needs; it is signed by the targets keys of root version 1")]
    public async Task Status_names_what_an_interrupted_rotation_left_inconsistent_and_publish_repairs_it(string rotated, string fault)
    {
        // Root sign writes the new timestamp last; here it stopped just before. Status said only "timestamp is signed by 0 of
        // the 1 keys it needs" (exit 7) for a new timestamp key, and nothing at all (exit 0) for a new targets key.
        await CreateRepositoryAsync();
        await NewClient().RefreshAsync();
        await Ok("release", "key", "create", Key("new"));
        var timestamp = Path.Combine(Repo, "metadata", "timestamp.json");
        var published = await File.ReadAllBytesAsync(timestamp);
        await Ok(rotated == "timestamp"
            ? ["release", "root", "sign", "--repo", Repo, "--key", Key("root1"), "--key", Key("root2"), "--timestamp-key", Key("new")]
            : ["release", "root", "sign", "--repo", Repo, "--key", Key("root1"), "--key", Key("root2"), "--targets-key", Key("new"),
                "--snapshot-key", Key("snapshot"), "--timestamp-key", Key("timestamp")]);
        await File.WriteAllBytesAsync(timestamp, published);
        await Assert.ThrowsAsync<TufException>(() => NewClient(keepState: true).RefreshAsync());

        var status = await cli.RunAsync("release", "status", "--repo", Repo);
        await Ok("release", "publish", "--repo", Repo, "--snapshot-key", Key("snapshot"), "--timestamp-key", Key(rotated == "timestamp" ? "new" : "timestamp"));

        Assert.Equal(ExitCodes.BadInput, status.ExitCode);
        Assert.StartsWith($"error: clients refuse this repository: {fault.Replace('/', Path.DirectorySeparatorChar)}, which root version 2 replaced", status.Stderr, StringComparison.Ordinal);
        Assert.EndsWith("A new snapshot and timestamp over the latest version of every role repair it, signed with the snapshot and timestamp keys root version 2 lists: " +
            $"gatehouse release publish --repo {Repo} --snapshot-key SNAPSHOT-KEY.pem --timestamp-key TIMESTAMP-KEY.pem\n", status.Stderr, StringComparison.Ordinal);
        await Ok("release", "status", "--repo", Repo);
        await NewClient(keepState: true).RefreshAsync();
    }

    [Fact]
    public async Task Status_over_a_targets_edited_on_disk_names_the_file_and_does_not_offer_publish()
    {
        // A new snapshot cannot be signed over it: publish would not repair this one.
        await CreateRepositoryAsync();
        await EditExpiryAsync("1.targets.json");

        var run = await cli.RunAsync("release", "status", "--repo", Repo);

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Equal($"error: {Path.Combine("metadata", "1.targets.json")} does not verify as clients check it: targets version 1 is signed by 0 of the 1 key it needs; " +
            "no snapshot can be signed over it\n", run.Stderr);
    }

    [Fact]
    public async Task Publish_over_a_delegated_role_edited_on_disk_is_refused_and_writes_nothing()
    {
        await CreateRepositoryAsync();
        await Ok("release", "delegate", "content-bypass", "--repo", Repo, "--path", "content/bypass/*", "--terminating", "--role-key", Key("content"), "--key", Key("targets"));
        await EditExpiryAsync("1.content-bypass.json");
        var before = Snapshot();

        var run = await cli.RunAsync("release", "publish", "--repo", Repo, "--snapshot-key", Key("snapshot"), "--timestamp-key", Key("timestamp"));

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains("1.content-bypass.json does not verify", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("content-bypass version 1 is signed by 0 of the 1 key it needs", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public async Task Root_sign_over_a_targets_edited_on_disk_is_refused_and_writes_nothing()
    {
        await CreateRepositoryAsync();
        await EditExpiryAsync("1.targets.json");
        var before = Snapshot();

        var run = await cli.RunAsync("release", "root", "sign", "--repo", Repo, "--key", Key("root1"), "--key", Key("root2"),
            "--snapshot-key", Key("content"), "--timestamp-key", Key("timestamp"));

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains("1.targets.json does not verify", run.Stderr, StringComparison.Ordinal);
        Assert.Equal("", run.Stdout);
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public async Task Timestamp_only_rotation_over_a_snapshot_edited_on_disk_is_refused_and_writes_nothing()
    {
        await CreateRepositoryAsync();
        await EditExpiryAsync("1.snapshot.json");
        var before = Snapshot();

        var run = await cli.RunAsync("release", "root", "sign", "--repo", Repo, "--key", Key("root1"), "--key", Key("root2"), "--timestamp-key", Key("content"));

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains("1.snapshot.json does not verify", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("snapshot version 1 is signed by 0 of the 1 key it needs", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot());
    }

    public void Dispose() => cli.Dispose();

    // Rewrites a metadata file with a later expiry and its signatures unchanged, as someone editing the directory would.
    private async Task EditExpiryAsync(string file)
    {
        var path = Path.Combine(Repo, "metadata", file);
        var document = JsonNode.Parse(await File.ReadAllTextAsync(path))!;
        document["signed"]!["expires"] = "2099-01-01T00:00:00Z";
        await File.WriteAllTextAsync(path, document.ToJsonString());
    }

    // Every file of the repository and its bytes.
    private SortedDictionary<string, string> Snapshot() =>
        new(Directory.EnumerateFiles(Repo, "*", SearchOption.AllDirectories).ToDictionary(p => p, p => Convert.ToBase64String(File.ReadAllBytes(p))), StringComparer.Ordinal);

    private string Key(string name) => Path.Combine(Keys, name + ".pem");

    private async Task MakeKeysAsync()
    {
        Directory.CreateDirectory(Keys);
        foreach (var name in new[] { "root1", "root2", "targets", "snapshot", "timestamp", "content" })
        {
            await Ok("release", "key", "create", Key(name));
        }
    }

    private async Task CreateRepositoryAsync(int expiresDays = 365)
    {
        await MakeKeysAsync();
        await Ok("release", "repo", "create", "--repo", Repo, "--root-key", Key("root1"), "--root-key", Key("root2"), "--root-threshold", "2",
            "--targets-key", Key("targets"), "--snapshot-key", Key("snapshot"), "--timestamp-key", Key("timestamp"), "--expires-days", expiresDays.ToString(CultureInfo.InvariantCulture));
    }

    private static long RootVersionOf(string path) => RootMetadata.FromJson(SignedMetadata.Parse(File.ReadAllBytes(path)).Signed).Version;

    // A client that trusts 1.root.json, or (keepState) what it trusted after its last refresh.
    private TufUpdater NewClient(bool keepState = false)
    {
        var metadata = Path.Combine(cli.Folder, "client", "metadata");
        if (!keepState)
        {
            TufUpdater.Initialize(metadata, File.ReadAllBytes(Path.Combine(Repo, "metadata", "1.root.json")));
        }

        return DirectoryRemoteFiles.Updater(Repo, Path.Combine(cli.Folder, "client"));
    }

    private async Task<CliRun> Ok(params string[] args)
    {
        var run = await cli.RunAsync(args);
        Assert.True(run.ExitCode == ExitCodes.Ok, $"gatehouse {string.Join(' ', args)} exited {run.ExitCode}: {run.Stderr}");
        return run;
    }
}
