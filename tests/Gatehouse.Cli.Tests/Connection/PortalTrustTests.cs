using Gatehouse.Cli.Tests.Scripted;

namespace Gatehouse.Cli.Tests.Connection;

public sealed class PortalTrustTests
{
    private const string NoEdges = """{"items":[],"nextCursor":null}""";

    [Fact]
    public async Task The_portal_is_trusted_when_its_certificate_is_in_the_ca_file()
    {
        await using var portal = new TlsPortal(NoEdges);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");
        var caFile = Path.Combine(cli.Folder, "portal.pem");
        await File.WriteAllTextAsync(caFile, portal.CertificatePem);

        var run = await cli.RunAsync("edge", "list", "--ca-file", caFile);

        Assert.Equal("", run.Stderr);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(1, portal.Answered);
    }

    [Fact]
    public async Task A_certificate_not_in_the_ca_file_is_refused_with_exit_6_and_a_tls_message()
    {
        await using var portal = new TlsPortal(NoEdges);
        using var other = TlsPortal.SelfSigned("127.0.0.1");
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");
        var caFile = Path.Combine(cli.Folder, "other.pem");
        await File.WriteAllTextAsync(caFile, other.ExportCertificatePem());

        var run = await cli.RunAsync("edge", "list", "--ca-file", caFile);

        Assert.Equal(6, run.ExitCode);
        Assert.Contains("TLS handshake", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("does not chain to the CA file", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, portal.Answered);
    }

    [Fact]
    public async Task A_self_signed_portal_without_a_ca_file_is_refused()
    {
        await using var portal = new TlsPortal(NoEdges);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("edge", "list");

        Assert.Equal(6, run.ExitCode);
        Assert.Contains("not trusted by this system", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Insecure_skips_verification_and_warns_on_stderr()
    {
        await using var portal = new TlsPortal(NoEdges);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("edge", "list", "--insecure");

        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("warning: --insecure", run.Stderr, StringComparison.Ordinal);
    }
}
