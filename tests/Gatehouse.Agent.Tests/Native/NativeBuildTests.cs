using System.Diagnostics;
using Gatehouse.Testing;
using Gatehouse.Wire.Agent;

namespace Gatehouse.Agent.Tests.Native;

/// <summary>A test that needs clang for Native AOT; skipped, saying why, when it is not installed (./test.sh installs it).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class NativeBuildFactAttribute : FactAttribute
{
    public NativeBuildFactAttribute()
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Any(d => File.Exists(Path.Combine(d, "clang")));
        if (!found)
        {
            Skip = "clang is not installed, so the agent cannot be published as a native executable: apt-get install clang zlib1g-dev (./test.sh does)";
        }
    }
}

/// <summary>
/// The agent ships as a native executable (its idle memory target needs it): the publish must stay free
/// of trim and AOT warnings, and the native program must still do its job.
/// </summary>
public sealed class NativeBuildTests
{
    [NativeBuildFact]
    public async Task The_agent_publishes_natively_and_its_service_answers_status()
    {
        var output = Directory.CreateTempSubdirectory("gatehouse-agent-native-").FullName;
        try
        {
            // Its own artifacts folder: restoring and building for a runtime must not touch the obj/ folders
            // that the rest of the suite is built from, maybe at this very moment.
            // At the lowest priority: the native compiler takes every core for most of a minute, and the
            // rest of the suite runs beside it with its own timeouts.
            var (code, log) = await RunAsync("nice", TimeSpan.FromMinutes(8), "-n", "19", "dotnet", "publish", Path.Combine(RepositoryRoot.Find(), "src", "gatehouse-agent"), "-c", "Release", "-o", Path.Combine(output, "bin"), "--artifacts-path", Path.Combine(output, "artifacts"), "--nologo", "-v", "quiet");
            Assert.True(code == 0, log);
            var program = Path.Combine(output, "bin", "gatehouse-agent");
            Assert.False(File.Exists(Path.Combine(output, "bin", "gatehouse-agent.dll")), "the publish is not native: gatehouse-agent.dll is next to the program");

            var socket = Path.Combine(output, "agent.sock");
            using var service = Process.Start(new ProcessStartInfo(program, ["service", "--state-dir", Path.Combine(output, "state"), "--socket", socket, "--proxy-listen", "127.0.0.1:0"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            try
            {
                await AgentFixture.WaitUntilAsync(() => Task.FromResult(File.Exists(socket)), "the native service's socket");
                var answer = await AgentLocalApi.CallAsync(socket, new AgentRequest(AgentCommands.Status)).DefaultTimeout();
                Assert.True(answer.Ok);
                Assert.Equal(AgentStates.NotEnrolled, answer.Status!.State);
            }
            finally
            {
                service.Kill();
                await service.WaitForExitAsync();
            }
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    private static async Task<(int Code, string Log)> RunAsync(string file, TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(timeout);
        return (process.ExitCode, await stdout + await stderr);
    }
}
