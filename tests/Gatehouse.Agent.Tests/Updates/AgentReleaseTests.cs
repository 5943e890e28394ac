using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Testing;

namespace Gatehouse.Agent.Tests.Updates;

/// <summary>
/// Agent builds under <c>gatehouse-agent launch</c>, run as real processes (the builds are small
/// executables): a good build commits after its health window; a build that crashes at every
/// start goes back to the old one by itself after three starts and is never tried again.
/// </summary>
public sealed class AgentReleaseTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("gatehouse-releases-").FullName;

    private string InstallDirectory => Path.Combine(_root, "install");

    [Fact]
    public async Task A_crash_looping_new_build_returns_to_the_old_one_by_itself_and_is_quarantined()
    {
        await InstallAsync("1.0.0", "#!/bin/sh\necho \"build 1.0.0 $*\"\nsleep 1.5\n");
        var first = await LaunchAsync("service", "--flag");
        Assert.Equal(0, first.Code);
        Assert.Contains("build 1.0.0 service --flag", first.Stdout, StringComparison.Ordinal);
        Assert.Contains("1.0.0 ran for", first.Stderr, StringComparison.Ordinal);

        await InstallAsync("1.1.0", "#!/bin/sh\necho \"build 1.1.0 crashing\"\nexit 7\n");
        for (var start = 1; start <= 3; start++)
        {
            var crashed = await LaunchAsync("service");
            Assert.Equal(7, crashed.Code);
            Assert.Contains("build 1.1.0 crashing", crashed.Stdout, StringComparison.Ordinal);
        }

        var recovered = await LaunchAsync("service");

        Assert.Equal(0, recovered.Code);
        Assert.Contains("build 1.0.0 service", recovered.Stdout, StringComparison.Ordinal);
        Assert.Contains("trial version 1.1.0 quarantined: failed to start 3 times", recovered.Stderr, StringComparison.Ordinal);
        var again = await InstallAsync("1.1.0", "#!/bin/sh\necho \"build 1.1.0 crashing\"\nexit 7\n", expectSuccess: false);
        Assert.Contains("quarantined", again, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_build_without_the_executable_is_refused_and_the_committed_one_keeps_running()
    {
        await InstallAsync("1.0.0", "#!/bin/sh\necho \"build 1.0.0\"\nsleep 1.5\n");
        await LaunchAsync();

        var refused = await InstallAsync("2.0.0", "#!/bin/sh\necho nope\n", expectSuccess: false, name: "not-the-agent");

        Assert.Contains("has no gatehouse-agent", refused, StringComparison.Ordinal);
        Assert.Contains("build 1.0.0", (await LaunchAsync()).Stdout, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private async Task<string> InstallAsync(string version, string script, bool expectSuccess = true, string name = "gatehouse-agent")
    {
        var archive = Path.Combine(_root, $"{version}.tar.gz");
        using (var file = File.Create(archive))
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name)
            {
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute,
                DataStream = new MemoryStream(Encoding.ASCII.GetBytes(script)),
            };
            tar.WriteEntry(entry);
        }

        var sha256 = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(archive)));
        var run = await RunAgentAsync("install-release", "--install-dir", InstallDirectory, "--version", version, "--file", archive, "--sha256", sha256);
        Assert.True((run.Code == 0) == expectSuccess, $"install-release exited {run.Code}: {run.Stderr}");
        return run.Stderr;
    }

    private Task<(int Code, string Stdout, string Stderr)> LaunchAsync(params string[] args) =>
        RunAgentAsync(["launch", "--install-dir", InstallDirectory, "--health-window", "0.5", "--", .. args]);

    private static async Task<(int Code, string Stdout, string Stderr)> RunAgentAsync(params string[] args)
    {
        var directory = AppContext.BaseDirectory;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["exec", "--runtimeconfig", Path.Combine(directory, "Gatehouse.Agent.Tests.runtimeconfig.json"), "--depsfile", Path.Combine(directory, "Gatehouse.Agent.Tests.deps.json"), Path.Combine(directory, "gatehouse-agent.dll"), .. args])
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
