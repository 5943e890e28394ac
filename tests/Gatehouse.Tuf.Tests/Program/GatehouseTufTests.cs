using System.Diagnostics;
using Gatehouse.Testing;
using Gatehouse.Tuf.Tests.Client;
using Gatehouse.Tuf.Tests.Repository;

namespace Gatehouse.Tuf.Tests.Program;

/// <summary>
/// <c>gatehouse-tuf</c> run as a process, as the tuf-conformance suite runs a client: the
/// command line, the exit codes, and what it leaves in the metadata and target directories.
/// </summary>
public sealed class GatehouseTufTests
{
    [Fact]
    public async Task Init_then_refresh_keeps_unversioned_trusted_metadata_in_the_directory()
    {
        await using var client = await ClientUnderTest.StartAsync(RepositorySimulator.CreatePublished(DateTimeOffset.UtcNow));
        var root = Path.Combine(client.Directory, "initial-root.json");
        Directory.CreateDirectory(client.Directory);
        await File.WriteAllBytesAsync(root, client.Repository.Files["metadata/1.root.json"]);
        var dir = Path.Combine(client.Directory, "cli-metadata");

        Assert.Equal(0, (await RunAsync("--metadata-dir", dir, "init", root)).ExitCode);
        Assert.Empty(client.Server.TakeRequests()); // init makes no request
        var refresh = await RunAsync("--metadata-dir", dir, "--metadata-url", client.Server.MetadataUrl.ToString(), "refresh");

        Assert.Equal(0, refresh.ExitCode);
        Assert.Equal(["root.json", "snapshot.json", "targets.json", "timestamp.json"], Directory.EnumerateFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Download_fetches_several_targets_verifies_them_and_does_not_fetch_them_again()
    {
        var repository = RepositorySimulator.CreatePublished(DateTimeOffset.UtcNow);
        repository.AddTarget("agent/gatehouse-agent.tar.gz", "agent"u8.ToArray());
        repository.Delegate("targets", "content", ["content/*"]);
        repository.AddTarget("content/categories.json", "{}"u8.ToArray(), role: "content");
        repository.PublishAll();
        await using var client = await ClientUnderTest.StartAsync(repository);
        var dir = client.MetadataDirectory;
        var targets = Path.Combine(client.Directory, "downloads");
        string[] download =
        [
            "--metadata-dir", dir, "--metadata-url", client.Server.MetadataUrl.ToString(),
            "--target-name", "agent/gatehouse-agent.tar.gz", "--target-name", "content/categories.json",
            "--target-base-url", client.Server.TargetsUrl.ToString(), "--target-dir", targets, "download",
        ];

        var first = await RunAsync(download);
        var second = await RunAsync(download);

        Assert.Equal(0, first.ExitCode);
        Assert.Equal("agent", await File.ReadAllTextAsync(Path.Combine(targets, "agent%2Fgatehouse-agent.tar.gz")));
        Assert.Equal("{}", await File.ReadAllTextAsync(Path.Combine(targets, "content%2Fcategories.json")));
        Assert.True(File.Exists(Path.Combine(dir, "content.json")));
        Assert.Equal(0, second.ExitCode);
        Assert.Equal(2, client.Server.TakeRequests().Count(r => r.StartsWith("targets/", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_failed_verification_exits_1_and_says_why_on_stderr()
    {
        var repository = RepositorySimulator.CreatePublished(DateTimeOffset.UtcNow);
        var target = repository.AddTarget("agent/gatehouse-agent.tar.gz", "good"u8.ToArray());
        repository.PublishAll();
        repository.ServeTarget(target, "evil"u8.ToArray());
        await using var client = await ClientUnderTest.StartAsync(repository);
        var targets = Path.Combine(client.Directory, "downloads");

        var result = await RunAsync(
            "--metadata-dir", client.MetadataDirectory, "--metadata-url", client.Server.MetadataUrl.ToString(),
            "--target-name", "agent/gatehouse-agent.tar.gz", "--target-base-url", client.Server.TargetsUrl.ToString(),
            "--target-dir", targets, "download");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Mismatch", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(targets));
    }

    [Theory]
    [InlineData("refresh")]
    [InlineData("download")]
    public async Task A_command_missing_what_it_needs_exits_1(string command)
    {
        var dir = Path.Combine(Path.GetTempPath(), "gatehouse-tuf-" + Guid.NewGuid().ToString("N"));
        try
        {
            var result = await RunAsync("--metadata-dir", dir, command);

            Assert.Equal(1, result.ExitCode);
            Assert.Contains("--metadata-url", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Refresh_without_a_trusted_root_exits_1()
    {
        var dir = Path.Combine(Path.GetTempPath(), "gatehouse-tuf-" + Guid.NewGuid().ToString("N"));
        var result = await RunAsync("--metadata-dir", dir, "--metadata-url", "http://127.0.0.1:9/metadata/", "refresh");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no trusted root", result.Stderr, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var directory = AppContext.BaseDirectory;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in (string[])["exec", "--runtimeconfig", Path.Combine(directory, "Gatehouse.Tuf.Tests.runtimeconfig.json"), "--depsfile", Path.Combine(directory, "Gatehouse.Tuf.Tests.deps.json"), Path.Combine(directory, "gatehouse-tuf.dll"), .. args])
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().DefaultTimeout();
        return (process.ExitCode, await stdout, await stderr);
    }
}
