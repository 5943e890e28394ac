using Gatehouse.Cli.Connection;

namespace Gatehouse.Cli.Tests.Connection;

public sealed class CliConfigStoreTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gatehouse-config-").FullName;

    [Fact]
    public void The_config_is_written_readable_by_its_owner_only_and_read_back()
    {
        var store = new CliConfigStore(Path.Combine(_folder, "gatehouse", "cli.json"));
        var config = new CliConfig
        {
            Portal = "https://portal.example.com:7443/",
            CaFile = "/etc/gatehouse/ca.pem",
            Session = new SessionCredentials("c", "x", "owner@example.com", new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero)),
        };

        store.Save(config);
        store.Save(config with { Token = "gh_second" });

        Assert.Equal(config with { Token = "gh_second" }, store.Load());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.Path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(store.Path)!));
        }
        Assert.Equal(["cli.json"], Directory.GetFiles(Path.GetDirectoryName(store.Path)!).Select(Path.GetFileName));
    }

    [Fact]
    public void A_missing_config_reads_as_empty()
    {
        Assert.Equal(new CliConfig(), new CliConfigStore(Path.Combine(_folder, "none.json")).Load());
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
