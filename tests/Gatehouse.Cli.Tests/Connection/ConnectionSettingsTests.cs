using Gatehouse.Cli.Connection;

namespace Gatehouse.Cli.Tests.Connection;

public sealed class ConnectionSettingsTests
{
    private static ConnectionSettings For(string portal) => ConnectionSettings.Resolve(portal, null, insecureFlag: false,
        CliEnvironment.FromStreams(TextWriter.Null, TextWriter.Null, TextReader.Null, _ => null), new CliConfig());

    [Theory]
    [InlineData("http://portal.example.com/", true)]
    [InlineData("http://10.0.0.5:7443/", true)]
    [InlineData("http://127.0.0.1:7443/", false)]
    [InlineData("http://localhost:7443/", false)]
    [InlineData("http://[::1]:7443/", false)]
    [InlineData("https://portal.example.com/", false)]
    public void Plain_http_is_flagged_only_when_it_leaves_the_machine(string portal, bool flagged) =>
        Assert.Equal(flagged, For(portal).IsCleartextOverNetwork);

    [Fact]
    public void A_flag_wins_over_the_environment_which_wins_over_the_config_file()
    {
        var environment = CliEnvironment.FromStreams(TextWriter.Null, TextWriter.Null, TextReader.Null,
            name => name == "GATEHOUSE_PORTAL" ? "https://env.example.com" : null);
        var config = new CliConfig { Portal = "https://config.example.com/", Token = "gh_config" };

        Assert.Equal("https://flag.example.com/", ConnectionSettings.Resolve("https://flag.example.com", null, false, environment, config).Portal.ToString());
        Assert.Equal("https://env.example.com/", ConnectionSettings.Resolve(null, null, false, environment, config).Portal.ToString());
        var fromConfig = ConnectionSettings.Resolve(null, null, false,
            CliEnvironment.FromStreams(TextWriter.Null, TextWriter.Null, TextReader.Null, _ => null), config);
        Assert.Equal("https://config.example.com/", fromConfig.Portal.ToString());
        Assert.Equal("gh_config", fromConfig.Token);
    }

    [Fact]
    public void A_url_that_is_not_http_is_a_usage_error()
    {
        var e = Assert.Throws<CliException>(() => For("ftp://portal.example.com"));
        Assert.Equal(ExitCodes.Usage, e.ExitCode);
    }
}
