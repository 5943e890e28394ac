using System.Security.Cryptography;
using Gatehouse.Trust.Secrets;

namespace Gatehouse.Trust.Tests.Secrets;

public sealed class SecretProtectorTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "gatehouse-secrets-" + Guid.NewGuid().ToString("N"));
    private readonly SecretProtector _protector = new(RandomNumberGenerator.GetBytes(32));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public void Protected_secret_round_trips()
    {
        var secret = "the CA private key"u8.ToArray();

        var protectedData = _protector.Protect(secret, "tenant-ca-key");

        Assert.Equal(1, protectedData[0]);
        Assert.Equal(1 + 12 + secret.Length + 16, protectedData.Length);
        Assert.False(protectedData.AsSpan().IndexOf("private"u8) >= 0);
        Assert.Equal(secret, _protector.Unprotect(protectedData, "tenant-ca-key"));
    }

    [Fact]
    public void Empty_secret_round_trips() =>
        Assert.Empty(_protector.Unprotect(_protector.Protect([], "p"), "p"));

    [Fact]
    public void Same_secret_protects_differently_each_time() =>
        Assert.NotEqual(_protector.Protect("x"u8, "p"), _protector.Protect("x"u8, "p"));

    [Fact]
    public void Tampered_secret_throws()
    {
        var protectedData = _protector.Protect("secret"u8, "p");

        for (var i = 0; i < protectedData.Length; i++)
        {
            var tampered = (byte[])protectedData.Clone();
            tampered[i] ^= 0x80;
            Assert.Throws<TrustException>(() => _protector.Unprotect(tampered, "p"));
        }
    }

    [Fact]
    public void Truncated_secret_throws() =>
        Assert.Throws<TrustException>(() => _protector.Unprotect(_protector.Protect("secret"u8, "p")[..20], "p"));

    [Fact]
    public void Wrong_purpose_throws() =>
        Assert.Throws<TrustException>(() => _protector.Unprotect(_protector.Protect("secret"u8, "smtp-password"), "tenant-ca-key"));

    [Fact]
    public void Wrong_key_throws()
    {
        var other = new SecretProtector(RandomNumberGenerator.GetBytes(32));

        Assert.Throws<TrustException>(() => other.Unprotect(_protector.Protect("secret"u8, "p"), "p"));
    }

    [Fact]
    public void Master_key_of_the_wrong_size_is_refused() =>
        Assert.Throws<ArgumentException>(() => new SecretProtector(new byte[16]));

    [Fact]
    public void Master_key_is_created_once_owner_only_and_then_read_back()
    {
        var path = Path.Combine(_root, "keys", "master.key");

        var created = SecretProtector.LoadOrCreateMasterKey(path);
        var loaded = SecretProtector.LoadOrCreateMasterKey(path);

        Assert.Equal(32, created.Length);
        Assert.Equal(created, loaded);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        }

        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public void Master_key_file_of_the_wrong_length_is_refused_and_left_alone()
    {
        Directory.CreateDirectory(_root);
        var path = Path.Combine(_root, "master.key");
        File.WriteAllBytes(path, new byte[31]);

        var e = Assert.Throws<TrustException>(() => SecretProtector.LoadOrCreateMasterKey(path));

        Assert.Contains("31 bytes", e.Message, StringComparison.Ordinal);
        Assert.Equal(31, new FileInfo(path).Length);
    }

    [Fact]
    public void Loading_a_master_key_that_is_not_there_is_refused_and_creates_nothing()
    {
        var path = Path.Combine(_root, "keys", "master.key");

        var e = Assert.Throws<TrustException>(() => SecretProtector.LoadMasterKey(path));

        Assert.Contains("no master key file", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_root));
    }

    [Fact]
    public void Loading_reads_the_key_that_was_created()
    {
        var path = Path.Combine(_root, "master.key");
        var created = SecretProtector.LoadOrCreateMasterKey(path);

        Assert.Equal(created, SecretProtector.LoadMasterKey(path));
    }
}
