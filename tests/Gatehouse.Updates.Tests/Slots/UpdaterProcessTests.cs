using System.Diagnostics;
using Gatehouse.Testing;
using Gatehouse.Updates.Slots;
using Gatehouse.Updates.Tests.Content;

namespace Gatehouse.Updates.Tests.Slots;

/// <summary>
/// The slots under the failures that happen to real machines, with a real process: a loader that
/// crashes the process, <c>kill -9</c> in the middle of an install, a full disk. Each time the
/// last good content stays in force.
/// </summary>
public sealed class UpdaterProcessTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("gatehouse-slots-").FullName;

    [Fact]
    public async Task Content_that_crashes_the_process_at_load_is_quarantined_after_three_starts_without_being_read_again()
    {
        var slots = new SlotStore(directory);
        SampleContent.Commit(slots, "41", SampleContent.Bypass("41"));
        SampleContent.StageAndTry(slots, "42", SampleContent.Bypass("42", null, ["domain", "crash", "", ""]));

        for (var start = 1; start <= SlotStore.DefaultMaxStarts; start++)
        {
            var crashed = await RunHostAsync("activate", directory);
            Assert.NotEqual(0, crashed.ExitCode);
        }

        var recovered = await RunHostAsync("activate", directory);

        Assert.Equal(0, recovered.ExitCode);
        Assert.Contains("active 41 committed", recovered.Stdout, StringComparison.Ordinal);
        Assert.Contains("3 trial runs ended in a crash or a kill", recovered.Stdout, StringComparison.Ordinal);
        Assert.Contains("active 41 committed", (await RunHostAsync("activate", directory)).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_kill_during_an_install_leaves_the_last_good_content_in_force_and_a_later_install_works()
    {
        var slots = new SlotStore(directory);
        SampleContent.Commit(slots, "41", SampleContent.Bypass("41"));
        var big = Path.Combine(directory, "..", Path.GetFileName(directory) + "-big.json");
        await File.WriteAllBytesAsync(big, SampleContent.Bypass("42", null, [.. Enumerable.Range(0, 200_000).Select(i => new[] { "domain", $"host{i}.example", "443", "" })]));
        try
        {
            using var process = Process.Start(HostStart("stage-and-hang", directory, "42", big))!;
            Assert.Equal("written", await process.StandardOutput.ReadLineAsync().DefaultTimeout());
            process.Kill(entireProcessTree: true); // SIGKILL with the artifact written and not yet renamed
            await process.WaitForExitAsync().DefaultTimeout();

            Assert.NotEmpty(Directory.EnumerateFiles(directory, "*.tmp"));
            Assert.Contains("active 41 committed", (await RunHostAsync("activate", directory)).Stdout, StringComparison.Ordinal);
            Assert.Empty(Directory.EnumerateFiles(directory, "*.tmp"));
            var again = await RunHostAsync("stage", directory, "42", big);
            Assert.Equal(0, again.ExitCode);
            Assert.Contains("active 42 trial", (await RunHostAsync("activate", directory)).Stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(big);
        }
    }

    [TmpfsFact]
    public async Task A_full_disk_refuses_the_install_as_transient_and_the_last_good_content_stays_in_force()
    {
        var mount = Path.Combine(directory, "small");
        Directory.CreateDirectory(mount);
        await RunAsync("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mount);
        try
        {
            var slots = new SlotStore(mount);
            SampleContent.Commit(slots, "41", SampleContent.Bypass("41"));
            var big = Path.Combine(directory, "big.json");
            await File.WriteAllBytesAsync(big, SampleContent.Bypass("42", null, [.. Enumerable.Range(0, 20_000).Select(i => new[] { "domain", $"host{i}.example", "443", "" })]));

            var staged = await RunHostAsync("stage", mount, "42", big);

            Assert.Equal(1, staged.ExitCode);
            Assert.Contains("No space left on device", staged.Stdout, StringComparison.Ordinal);
            Assert.Contains("transient: True", staged.Stdout, StringComparison.Ordinal);
            Assert.Contains("active 41 committed", (await RunHostAsync("activate", mount)).Stdout, StringComparison.Ordinal);
            Assert.Empty(Directory.EnumerateFiles(mount, "*.tmp"));
        }
        finally
        {
            await RunAsync("umount", mount);
        }
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static ProcessStartInfo HostStart(params string[] args)
    {
        var dir = AppContext.BaseDirectory;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["exec", "--runtimeconfig", Path.Combine(dir, "Gatehouse.Updates.Tests.runtimeconfig.json"), "--depsfile", Path.Combine(dir, "Gatehouse.Updates.Tests.deps.json"), Path.Combine(dir, "Gatehouse.Updates.TestHost.dll"), .. args])
        {
            start.ArgumentList.Add(arg);
        }

        // A crash must not leave a core file or wait for a debugger.
        start.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        return start;
    }

    private static async Task<(int ExitCode, string Stdout)> RunHostAsync(params string[] args)
    {
        using var process = Process.Start(HostStart(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().DefaultTimeout();
        await stderr;
        return (process.ExitCode, await stdout);
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().DefaultTimeout();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)}: {stderr}");
        }
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the condition did not hold in time");
            }

            await Task.Delay(1);
        }
    }
}

/// <summary>A fact that mounts a small tmpfs: it needs root, and is skipped with the reason otherwise.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Skip = "mounting a small tmpfs to fill the disk needs root (CI runs as root)";
        }
    }
}
