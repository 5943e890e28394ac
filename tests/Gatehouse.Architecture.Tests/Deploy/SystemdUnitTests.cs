using System.Diagnostics;
using Gatehouse.Testing;

namespace Gatehouse.Architecture.Tests.Deploy;

/// <summary>
/// Every systemd unit in <c>deploy/</c> passes <c>systemd-analyze verify</c> with nothing to say: no unknown
/// setting, no value systemd would ignore. The check runs in a scratch root that holds systemd's own units,
/// the unit, and a stand-in for each program it starts, so nothing is installed on the machine.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SystemdUnitTests
{
    public static TheoryData<string> Units => [.. Directory.GetFiles(Path.Combine(RepositoryRoot.Find(), "deploy"), "*.service").Select(file => Path.GetFileName(file)!).Order(StringComparer.Ordinal)];

    [SystemdTheory]
    [MemberData(nameof(Units))]
    public void A_unit_passes_systemd_analyze_verify(string unit)
    {
        var (exitCode, output) = Verify(unit, File.ReadAllText(Path.Combine(RepositoryRoot.Find(), "deploy", unit)));

        Assert.True(exitCode == 0 && output.Length == 0, $"systemd-analyze verify {unit} exited {exitCode}: {output}");
    }

    [SystemdFact]
    public void A_unit_with_a_value_systemd_ignores_does_not_pass()
    {
        var (_, output) = Verify("broken.service", "[Service]\nExecStart=/usr/lib/gatehouse/broken/broken run\nRestart=sometimes\n");

        Assert.Contains("Failed to parse service restart specifier", output, StringComparison.Ordinal);
    }

    private static (int ExitCode, string Output) Verify(string name, string unit)
    {
        Assert.True(SystemdAnalyze.Path is not null && Directory.Exists(SystemdAnalyze.UnitDirectory), "GATEHOUSE_REQUIRE_SYSTEMD=1, and " + SystemdAnalyze.MissingReason);
        var root = Directory.CreateTempSubdirectory("gatehouse-systemd-root-");
        try
        {
            CopyDirectory(SystemdAnalyze.UnitDirectory, Path.Combine(root.FullName, "usr/lib/systemd/system"));
            var units = Directory.CreateDirectory(Path.Combine(root.FullName, "etc/systemd/system"));
            File.WriteAllText(Path.Combine(units.FullName, name), unit);
            foreach (var program in Programs(unit))
            {
                var stub = Path.Combine(root.FullName, program.TrimStart('/'));
                Directory.CreateDirectory(Path.GetDirectoryName(stub)!);
                File.WriteAllText(stub, "#!/bin/sh\n");
                File.SetUnixFileMode(stub, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            using var process = Process.Start(new ProcessStartInfo(SystemdAnalyze.Path!, ["verify", $"--root={root.FullName}", name])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            return (process.ExitCode, (stdout.Result + stderr.Result).Trim());
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    /// <summary>The absolute paths of the programs the unit's Exec lines start.</summary>
    private static IEnumerable<string> Programs(string unit) =>
        unit.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.StartsWith("Exec", StringComparison.Ordinal) && line.Contains('=', StringComparison.Ordinal))
            .Select(line => line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..].TrimStart('-', '@', '+', '!', ':').Split(' ')[0])
            .Where(path => path.StartsWith('/'));

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }
}

/// <summary>Where <c>systemd-analyze</c> is, and why a test that needs it is skipped.</summary>
internal static class SystemdAnalyze
{
    /// <summary>systemd's own units: the targets a service is ordered against.</summary>
    public const string UnitDirectory = "/usr/lib/systemd/system";

    public static string? Path { get; } = new[] { "/usr/bin/systemd-analyze", "/bin/systemd-analyze" }.FirstOrDefault(File.Exists);

    /// <summary>Null when the tests can run (or <c>GATEHOUSE_REQUIRE_SYSTEMD=1</c> makes a missing tool a failure).</summary>
    public static string? SkipReason =>
        (Path is not null && Directory.Exists(UnitDirectory)) || Environment.GetEnvironmentVariable("GATEHOUSE_REQUIRE_SYSTEMD") == "1"
            ? null
            : MissingReason;

    public const string MissingReason = "systemd-analyze is not installed: install Debian's systemd package (./test.sh does) to check the units in deploy/.";
}

/// <summary>A test that needs <c>systemd-analyze</c>: skipped, with the reason, when it is not installed.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class SystemdFactAttribute : FactAttribute
{
    public SystemdFactAttribute()
    {
        Skip = SystemdAnalyze.SkipReason;
    }
}

/// <summary>The <see cref="TheoryAttribute"/> counterpart of <see cref="SystemdFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class SystemdTheoryAttribute : TheoryAttribute
{
    public SystemdTheoryAttribute()
    {
        Skip = SystemdAnalyze.SkipReason;
    }
}
