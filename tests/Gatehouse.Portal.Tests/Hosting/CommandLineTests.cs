using Gatehouse.Portal.Hosting;

namespace Gatehouse.Portal.Tests.Hosting;

/// <summary>
/// <c>gatehouse-portal</c>'s arguments: help, and a refusal (exit 2) for anything it does not take, before it
/// creates or starts anything. The configuration reader alone took any flag, and a mistyped one started a
/// portal on the defaults: another data directory, with new keys.
/// </summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("gatehouse-portal-args-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Help_lists_the_commands()
    {
        Assert.Equal(0, await RunAsync("--help"));
        Assert.Contains("gatehouse-portal backup DIRECTORY", PortalHost.Usage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--data-dri", "{dir}")]
    [InlineData("--help", "--data-dir", "{dir}")]
    [InlineData("--data-dir")]
    [InlineData("--data-dir", "{dir}", "--listen")]
    [InlineData("--data-dir", "{dir}", "stray")]
    [InlineData("backup")]
    [InlineData("backup", "--data-dir")]
    [InlineData("reset-password")]
    [InlineData("reset-password", "--listen")]
    [InlineData("reset-password", "owner@example.test", "--data-dir", "{dir}", "--postgress", "Host=x")]
    [InlineData("schema-script")]
    public async Task Arguments_it_does_not_take_are_refused_before_anything_is_created(params string[] args)
    {
        var dir = Path.Combine(_root, "data");

        var code = await RunAsync([.. args.Select(a => a.Replace("{dir}", dir, StringComparison.Ordinal))]);

        Assert.Equal(2, code);
        Assert.False(Directory.Exists(dir));
    }

    /// <summary>A command that answers at once; one that starts a portal instead fails the test after a while rather than holding the run.</summary>
    private static Task<int> RunAsync(params string[] args) => PortalHost.RunAsync(args).WaitAsync(TimeSpan.FromSeconds(30));
}
