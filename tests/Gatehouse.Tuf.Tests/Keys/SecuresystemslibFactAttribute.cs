using System.Diagnostics;

namespace Gatehouse.Tuf.Tests.Keys;

/// <summary>
/// A fact that needs securesystemslib on <c>/usr/bin/python3</c>; skipped with the reason and
/// the fix when it is missing (<c>./test.sh</c> installs it). Decided when tests are discovered,
/// as xunit 2 cannot skip a running test.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class SecuresystemslibFactAttribute : FactAttribute
{
    public SecuresystemslibFactAttribute()
    {
        Skip = Securesystemslib.SkipReason;
    }
}

/// <summary>The <see cref="TheoryAttribute"/> counterpart of <see cref="SecuresystemslibFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class SecuresystemslibTheoryAttribute : TheoryAttribute
{
    public SecuresystemslibTheoryAttribute()
    {
        Skip = Securesystemslib.SkipReason;
    }
}

internal static class Securesystemslib
{
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<string?> Probed = new(Probe);

    public static string? SkipReason => Probed.Value;

    private static string? Probe()
    {
        if (!File.Exists(Python))
        {
            return $"{Python} is missing; install python3-securesystemslib and python3-cryptography (./test.sh does)";
        }

        using var probe = Process.Start(new ProcessStartInfo(Python, ["-c", "import securesystemslib, cryptography"]) { RedirectStandardError = true })!;
        probe.StandardError.ReadToEnd();
        probe.WaitForExit();
        return probe.ExitCode == 0 ? null : "securesystemslib is not installed for /usr/bin/python3; install python3-securesystemslib and python3-cryptography (./test.sh does)";
    }
}
