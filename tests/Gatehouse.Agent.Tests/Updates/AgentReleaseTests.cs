using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Agent.LocalApi;
using Gatehouse.Testing;
using Gatehouse.Wire.Agent;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Agent.Tests.Updates;

/// <summary>
/// Agent builds under <c>gatehouse-agent launch</c>, run as real processes (the builds are small
/// executables, and a stand-in answers the service's local API): a good build commits after its
/// health window once the service says the tunnel is up with no restart; a build that crashes at
/// every start goes back to the old one by itself after three starts and is never tried again.
/// </summary>
public sealed class AgentReleaseTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("gatehouse-releases-").FullName;
    private LocalApiServer _service = null!;
    private volatile AgentStatus _status = new(AgentStates.Connected, "Connected: traffic goes through edge edge-1.");

    private string InstallDirectory => Path.Combine(_root, "install");

    private string Socket => Path.Combine(_root, "agent.sock");

    public Task InitializeAsync()
    {
        // The builds here are scripts: the service they would be is played by this local API.
        _service = LocalApiServer.Start(Socket, UnixFileMode.UserRead | UnixFileMode.UserWrite, (_, _, _) => Task.FromResult(new AgentResponse(true, null, _status)), NullLogger.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _service.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task A_crash_looping_new_build_returns_to_the_old_one_by_itself_and_is_quarantined()
    {
        await InstallAsync("1.0.0", "#!/bin/sh\necho \"build 1.0.0 $*\"\nsleep 1.5\n");
        var first = await LaunchAsync("service", "--flag");
        Assert.Equal(0, first.Code);
        Assert.Contains("build 1.0.0 service --flag", first.Stdout, StringComparison.Ordinal);
        Assert.Contains("1.0.0 ran for", first.Stderr, StringComparison.Ordinal);
        Assert.Contains("committed", first.Stderr, StringComparison.Ordinal);

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
        Assert.Contains("trial version 1.1.0 quarantined: 3 trial runs ended in a crash or a kill", recovered.Stderr, StringComparison.Ordinal);
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

    [Fact]
    public async Task A_trial_build_commits_only_once_its_service_says_the_tunnel_is_up_with_no_restart()
    {
        const string Build = "#!/bin/sh\necho \"build 1.0.0\"\nsleep 3\n";
        await InstallAsync("1.0.0", Build);

        _status = new AgentStatus(AgentStates.EdgesUnreachable, "No edge answers: traffic is dropped (fail-closed).");
        var unreachable = await LaunchAsync();
        _status = new AgentStatus(AgentStates.Connected, "Connected.", RoleRestarts: 1);
        var restarted = await LaunchAsync();
        _status = new AgentStatus(AgentStates.Connected, "Connected.");
        var healthy = await LaunchAsync();
        var after = await LaunchAsync();

        Assert.Contains("stays on trial: the agent is edges-unreachable, not connected", unreachable.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("committed", unreachable.Stderr, StringComparison.Ordinal);
        Assert.Contains("stays on trial: the data plane restarted 1 times", restarted.Stderr, StringComparison.Ordinal);
        Assert.Contains("starting 1.0.0 (trial)", healthy.Stderr, StringComparison.Ordinal);
        Assert.Contains("with the tunnel up and no restart; committed", healthy.Stderr, StringComparison.Ordinal);
        Assert.Contains("starting 1.0.0\n", after.Stderr.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_trial_build_whose_service_never_answers_is_not_committed()
    {
        await _service.DisposeAsync();
        await InstallAsync("1.0.0", "#!/bin/sh\necho \"build 1.0.0\"\nsleep 1.5\n");

        var run = await LaunchAsync();

        Assert.Contains("stays on trial: its service does not answer", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("committed", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_trial_build_stopped_with_sigterm_does_not_use_up_its_starts()
    {
        // A machine rebooted three times in the health window quarantined a good build as if it had crashed.
        await InstallAsync("1.0.0", "#!/bin/sh\necho \"build 1.0.0\"\nsleep 1.5\n");
        await LaunchAsync();
        await InstallAsync("1.1.0", "#!/bin/sh\ntrap 'exit 0' TERM\necho \"build 1.1.0\"\nwhile true; do sleep 0.1; done\n");
        _status = new AgentStatus(AgentStates.EdgesUnreachable, "No edge answers."); // never healthy: the trial goes on

        for (var stop = 1; stop <= 4; stop++)
        {
            var stopped = await LaunchAndStopAsync();
            Assert.Contains("starting 1.1.0 (trial)", stopped.Stderr, StringComparison.Ordinal);
            Assert.Equal(0, stopped.Code);
        }

        Assert.Contains("starting 1.1.0 (trial)", (await LaunchAndStopAsync()).Stderr, StringComparison.Ordinal);
    }

    /// <summary>Launches the installed builds, waits for the build to say it runs, and stops the launcher as systemd does (SIGTERM).</summary>
    private async Task<(int Code, string Stdout, string Stderr)> LaunchAndStopAsync()
    {
        var start = AgentStart(["launch", "--install-dir", InstallDirectory, "--health-window", "0.5", "--socket", Socket]);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var line = await process.StandardOutput.ReadLineAsync().DefaultTimeout();
        Assert.StartsWith("build ", line, StringComparison.Ordinal);
        using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await term.WaitForExitAsync().DefaultTimeout();
        }

        var rest = await process.StandardOutput.ReadToEndAsync().DefaultTimeout();
        await process.WaitForExitAsync().DefaultTimeout();
        return (process.ExitCode, line + "\n" + rest, await stderr);
    }

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
        RunAgentAsync(["launch", "--install-dir", InstallDirectory, "--health-window", "0.5", "--socket", Socket, "--", .. args]);

    private static async Task<(int Code, string Stdout, string Stderr)> RunAgentAsync(params string[] args)
    {
        using var process = Process.Start(AgentStart(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().DefaultTimeout();
        return (process.ExitCode, await stdout, await stderr);
    }

    private static ProcessStartInfo AgentStart(string[] args)
    {
        var directory = AppContext.BaseDirectory;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["exec", "--runtimeconfig", Path.Combine(directory, "Gatehouse.Agent.Tests.runtimeconfig.json"), "--depsfile", Path.Combine(directory, "Gatehouse.Agent.Tests.deps.json"), Path.Combine(directory, "gatehouse-agent.dll"), .. args])
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }
}
