using System.Text;
using Gatehouse.Tuf.Metadata;
using Gatehouse.Tuf.Tests.Repository;

namespace Gatehouse.Tuf.Tests.Client;

/// <summary>The client workflow when the repository behaves: what is fetched, what is stored.</summary>
public sealed class RefreshTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_first_refresh_fetches_and_stores_every_top_level_role()
    {
        await using var client = await ClientUnderTest.StartAsync(RepositorySimulator.CreatePublished(Now));

        await client.RefreshAsync();

        Assert.Equal(["metadata/2.root.json", "metadata/timestamp.json", "metadata/1.snapshot.json", "metadata/1.targets.json"], client.Server.TakeRequests());
        Assert.Equal(1, client.StoredVersion("root"));
        Assert.Equal(1, client.StoredVersion("timestamp"));
        Assert.Equal(1, client.StoredVersion("snapshot"));
        Assert.Equal(1, client.StoredVersion("targets"));
    }

    [Fact]
    public async Task A_refresh_with_nothing_new_fetches_only_the_next_root_and_the_timestamp()
    {
        await using var client = await ClientUnderTest.StartAsync(RepositorySimulator.CreatePublished(Now));
        await client.RefreshAsync();
        client.Server.TakeRequests();

        await client.RefreshAsync();

        Assert.Equal(["metadata/2.root.json", "metadata/timestamp.json"], client.Server.TakeRequests());
    }

    [Fact]
    public async Task A_new_target_is_found_downloaded_and_verified_and_a_second_download_uses_the_cache()
    {
        await using var client = await ClientUnderTest.StartAsync(RepositorySimulator.CreatePublished(Now));
        var content = Encoding.UTF8.GetBytes("agent 1.4.0");
        var target = client.Repository.AddTarget("agent/1.4.0/gatehouse-agent.tar.gz", content);
        client.Repository.PublishAll();

        var path = await client.DownloadAsync("agent/1.4.0/gatehouse-agent.tar.gz");

        Assert.Equal(content, await File.ReadAllBytesAsync(path));
        Assert.Contains($"targets/agent/1.4.0/{target.Hashes["sha256"]}.gatehouse-agent.tar.gz", client.Server.TakeRequests());
        await client.DownloadAsync("agent/1.4.0/gatehouse-agent.tar.gz");
        Assert.DoesNotContain(client.Server.TakeRequests(), r => r.StartsWith("targets/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_consistent_snapshots_files_are_fetched_by_plain_names()
    {
        var repository = new RepositorySimulator(Now) { ConsistentSnapshot = false };
        repository.PublishRoot();
        repository.AddTarget("content/categories.json", "{}"u8.ToArray());
        repository.PublishAll();
        await using var client = await ClientUnderTest.StartAsync(repository);

        await client.DownloadAsync("content/categories.json");

        Assert.Equal(
            ["metadata/2.root.json", "metadata/timestamp.json", "metadata/snapshot.json", "metadata/targets.json", "targets/content/categories.json"],
            client.Server.TakeRequests());
    }

    [Fact]
    public async Task Delegations_are_searched_in_order_and_a_terminating_one_ends_the_search()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        repository.Delegate("targets", "content", ["content/*"], terminating: true);
        repository.Delegate("targets", "fallback", ["*/*"]);
        repository.AddTarget("content/categories.json", "v1"u8.ToArray(), role: "content");
        repository.AddTarget("content/hidden.json", "never"u8.ToArray(), role: "fallback");
        repository.AddTarget("agent/notes.txt", "notes"u8.ToArray(), role: "fallback");
        repository.PublishAll();
        await using var client = await ClientUnderTest.StartAsync(repository);

        var updater = await client.RefreshAsync();
        Assert.NotNull(await updater.GetTargetInfoAsync("content/categories.json"));
        Assert.Null(await updater.GetTargetInfoAsync("content/hidden.json"));
        Assert.NotNull(await updater.GetTargetInfoAsync("agent/notes.txt"));

        Assert.Equal(1, client.StoredVersion("content"));
        Assert.Equal(1, client.StoredVersion("fallback"));
    }

    [Fact]
    public async Task Delegated_role_names_are_escaped_in_urls_and_file_names()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        repository.Delegate("targets", "../team a", ["t/*"]);
        repository.AddTarget("t/x", "x"u8.ToArray(), role: "../team a");
        repository.PublishAll();
        await using var client = await ClientUnderTest.StartAsync(repository);

        await client.DownloadAsync("t/x");

        Assert.True(File.Exists(Path.Combine(client.MetadataDirectory, "..%2Fteam%20a.json")));
        Assert.False(File.Exists(Path.Combine(client.Directory, "team a.json")));
    }

    [Fact]
    public async Task A_search_visits_at_most_the_delegation_limit()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        var parent = "targets";
        for (var i = 0; i < 40; i++)
        {
            repository.Delegate(parent, $"level{i}", ["deep/*"]);
            parent = $"level{i}";
        }

        repository.AddTarget("deep/file", "x"u8.ToArray(), role: parent);
        repository.PublishAll();
        await using var client = await ClientUnderTest.StartAsync(repository);

        var updater = await client.RefreshAsync();

        Assert.Null(await updater.GetTargetInfoAsync("deep/file"));
        Assert.Equal(31, client.Server.TakeRequests().Count(r => r.Contains(".level", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Metadata_is_stored_exactly_as_received()
    {
        await using var client = await ClientUnderTest.StartAsync(RepositorySimulator.CreatePublished(Now));

        await client.RefreshAsync();

        Assert.Equal(client.Repository.Files["metadata/timestamp.json"], client.Stored(RoleNames.Timestamp));
        Assert.Equal(client.Repository.Files["metadata/1.targets.json"], client.Stored(RoleNames.Targets));
    }
}
