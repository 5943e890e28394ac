using System.Security.Cryptography;
using System.Text.Json;
using Gatehouse.Cli.Tests.Scripted;
using Gatehouse.Trust.Dr;
using Gatehouse.Wire.Dr;

namespace Gatehouse.Cli.Tests.Commands.Dr;

/// <summary>
/// <c>gatehouse dr</c> makes the DR key and signs DR records offline; what it prints is what a
/// device verifies with the public key.
/// </summary>
public sealed class DrCommandsTests : IDisposable
{
    private const string Tenant = "0b6f3c1e-6a8f-4b8e-9c55-2f0d7a1e4c93";

    private readonly CliRunner cli = new();

    private string Key => Path.Combine(cli.Folder, "dr.pem");

    public void Dispose() => cli.Dispose();

    [Fact]
    public async Task Key_create_writes_a_private_key_for_the_owner_only_and_its_public_key()
    {
        var run = await Ok("dr", "key", "create", Key);

        Assert.Contains(Key, run.Stdout, StringComparison.Ordinal);
        Assert.Contains(Key + ".pub", run.Stdout, StringComparison.Ordinal);
        using var key = ECDsa.Create();
        key.ImportFromPem(await File.ReadAllTextAsync(Key));
        using var publicKey = ECDsa.Create();
        publicKey.ImportFromPem(await File.ReadAllTextAsync(Key + ".pub"));
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), publicKey.ExportSubjectPublicKeyInfo());
        Assert.Equal(256, key.KeySize);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", await File.ReadAllTextAsync(Key + ".pub"), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Key));
        }
    }

    [Fact]
    public async Task Key_create_never_overwrites_a_key_or_its_public_key()
    {
        await Ok("dr", "key", "create", Key);
        var before = await File.ReadAllTextAsync(Key);
        var beforePublic = await File.ReadAllTextAsync(Key + ".pub");

        var again = await cli.RunAsync("dr", "key", "create", Key);

        Assert.Equal(ExitCodes.BadInput, again.ExitCode);
        Assert.Contains("never overwritten", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(Key));
        Assert.Equal(beforePublic, await File.ReadAllTextAsync(Key + ".pub"));

        // A public key alone in the way is refused too, and no private key is left behind.
        var other = Path.Combine(cli.Folder, "other.pem");
        await File.WriteAllTextAsync(other + ".pub", "mine");
        Assert.Equal(ExitCodes.BadInput, (await cli.RunAsync("dr", "key", "create", other)).ExitCode);
        Assert.False(File.Exists(other));
        Assert.Equal("mine", await File.ReadAllTextAsync(other + ".pub"));
    }

    [Fact]
    public async Task A_printed_record_verifies_with_the_public_key()
    {
        await Ok("dr", "key", "create", Key);

        var run = await Ok("dr", "record", "--key", Key, "--tenant", Tenant, "--version", "3", "--state", "test", "--valid-hours", "2");

        var lines = Lines(run.Stdout);
        var text = Assert.Single(lines);
        var result = DrRecordSigning.Verify(text, PublicKey(), Guid.Parse(Tenant), lastVersion: 3, DateTimeOffset.UtcNow);
        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(3, result.Record!.Version);
        Assert.Equal(DrStates.Test, result.Record.State);
        Assert.Equal(DrModes.Closed, result.Record.Mode);
        Assert.Equal(TimeSpan.FromHours(2), result.Record.Expires - result.Record.Issued);
        Assert.True(text.Length <= 255);
    }

    [Fact]
    public async Task With_a_name_it_prints_a_zone_file_line_and_a_dnsmasq_line_holding_the_record()
    {
        await Ok("dr", "key", "create", Key);

        var run = await Ok("dr", "record", "--key", Key, "--tenant", Tenant, "--version", "1", "--state", "on", "--mode", "open", "--name", "_gatehouse-dr.example.com.");

        var lines = Lines(run.Stdout);
        Assert.Equal(3, lines.Length);
        Assert.Equal($"_gatehouse-dr.example.com. 300 IN TXT \"{lines[0]}\"", lines[1]);
        Assert.Equal($"txt-record=_gatehouse-dr.example.com,\"{lines[0]}\"", lines[2]);
        Assert.True(DrRecordSigning.Verify(lines[0], PublicKey(), Guid.Parse(Tenant), null, DateTimeOffset.UtcNow).IsValid);
    }

    [Fact]
    public async Task With_json_it_prints_the_record_and_its_fields()
    {
        await Ok("dr", "key", "create", Key);

        var run = await Ok("dr", "record", "--key", Key, "--tenant", Tenant, "--version", "9", "--state", "off", "--json");

        using var json = JsonDocument.Parse(run.Stdout);
        var text = json.RootElement.GetProperty("text").GetString()!;
        Assert.Equal(9, json.RootElement.GetProperty("version").GetInt64());
        Assert.Equal("off", json.RootElement.GetProperty("state").GetString());
        Assert.True(DrRecordSigning.Verify(text, PublicKey(), Guid.Parse(Tenant), null, DateTimeOffset.UtcNow).IsValid);
    }

    [Theory]
    [InlineData(ExitCodes.Usage, "--state 'maybe' is not one of on, off, test", "--state", "maybe")]
    [InlineData(ExitCodes.Usage, "--mode 'ajar' is not one of open, closed", "--state", "on", "--mode", "ajar")]
    [InlineData(ExitCodes.Usage, "--version must be 1 or more", "--state", "on", "--version", "0")]
    [InlineData(ExitCodes.Usage, "--valid-hours must be 1 or more", "--state", "on", "--valid-hours", "0")]
    [InlineData(ExitCodes.Usage, "is not a DNS name", "--state", "on", "--name", "bad name")]
    public async Task Bad_input_is_refused_with_the_reason_and_prints_no_record(int exitCode, string message, params string[] options)
    {
        await Ok("dr", "key", "create", Key);
        string[] args = ["dr", "record", "--key", Key, "--tenant", Tenant, .. options];
        if (!options.Contains("--version"))
        {
            args = [.. args, "--version", "1"];
        }

        var run = await cli.RunAsync(args);

        Assert.Equal(exitCode, run.ExitCode);
        Assert.Contains(message, run.Stderr, StringComparison.Ordinal);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public async Task A_key_file_that_is_missing_or_holds_no_private_key_is_bad_input()
    {
        await Ok("dr", "key", "create", Key);

        var missing = await cli.RunAsync("dr", "record", "--key", Path.Combine(cli.Folder, "none.pem"), "--tenant", Tenant, "--version", "1", "--state", "on");
        var publicOnly = await cli.RunAsync("dr", "record", "--key", Key + ".pub", "--tenant", Tenant, "--version", "1", "--state", "on");

        Assert.Equal(ExitCodes.BadInput, missing.ExitCode);
        Assert.Contains("the DR key cannot be read", missing.Stderr, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.BadInput, publicOnly.ExitCode);
        Assert.Contains("is not an ECDSA private key", publicOnly.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_of_another_curve_is_bad_input()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        await File.WriteAllTextAsync(Key, p384.ExportPkcs8PrivateKeyPem());

        var run = await cli.RunAsync("dr", "record", "--key", Key, "--tenant", Tenant, "--version", "1", "--state", "on");

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Contains("P-256", run.Stderr, StringComparison.Ordinal);
    }

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private byte[] PublicKey()
    {
        using var key = ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(Key + ".pub"));
        return key.ExportSubjectPublicKeyInfo();
    }

    private async Task<CliRun> Ok(params string[] args)
    {
        var run = await cli.RunAsync(args);
        Assert.True(run.ExitCode == ExitCodes.Ok, $"gatehouse {string.Join(' ', args)} exited {run.ExitCode}: {run.Stderr}");
        return run;
    }
}
