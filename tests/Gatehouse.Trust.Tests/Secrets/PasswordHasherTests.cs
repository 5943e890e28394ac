using Gatehouse.Trust.Secrets;

namespace Gatehouse.Trust.Tests.Secrets;

public class PasswordHasherTests
{
    // One hash per class: 600,000 iterations take a noticeable fraction of a second.
    private static readonly string Hashed = PasswordHasher.Hash("correct horse battery staple");

    [Fact]
    public void Hash_has_the_documented_format()
    {
        var parts = Hashed.Split('$');

        Assert.Equal("pbkdf2-sha256", parts[0]);
        Assert.Equal("600000", parts[1]);
        Assert.Equal(16, Convert.FromBase64String(parts[2]).Length);
        Assert.Equal(32, Convert.FromBase64String(parts[3]).Length);
    }

    [Fact]
    public void Right_password_verifies() =>
        Assert.True(PasswordHasher.Verify("correct horse battery staple", Hashed));

    [Fact]
    public void Wrong_password_does_not_verify() =>
        Assert.False(PasswordHasher.Verify("correct horse battery stapler", Hashed));

    [Fact]
    public void Same_password_hashes_with_a_new_salt_each_time() =>
        Assert.NotEqual(Hashed, PasswordHasher.Hash("correct horse battery staple"));

    [Fact]
    public void Iteration_count_is_read_from_the_hash()
    {
        // A hash made with fewer iterations (as an older release might have) still verifies.
        var salt = new byte[16];
        var hash = System.Security.Cryptography.Rfc2898DeriveBytes.Pbkdf2("pw", salt, 1000, System.Security.Cryptography.HashAlgorithmName.SHA256, 32);
        var encoded = $"pbkdf2-sha256$1000${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";

        Assert.True(PasswordHasher.Verify("pw", encoded));
        Assert.False(PasswordHasher.Verify("pw", encoded.Replace("$1000$", "$1001$", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("plain")]
    [InlineData("pbkdf2-sha256$600000$AAAA")]
    [InlineData("pbkdf2-sha1$1000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("pbkdf2-sha256$-1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("pbkdf2-sha256$0$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("pbkdf2-sha256$999999999$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("pbkdf2-sha256$1000$not base64!$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("pbkdf2-sha256$1000$AAAAAAAAAAAAAAAAAAAAAA==$")]
    [InlineData("pbkdf2-sha256$1000$$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    public void Malformed_hash_does_not_verify_and_does_not_throw(string encoded) =>
        Assert.False(PasswordHasher.Verify("pw", encoded));

    [Fact]
    public void Token_hash_is_lowercase_hex_sha256() =>
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", PasswordHasher.HashToken("abc"));

    [Fact]
    public void New_token_is_prefixed_unpadded_base64url_of_32_bytes()
    {
        var token = PasswordHasher.NewToken("ght");

        Assert.StartsWith("ght_", token, StringComparison.Ordinal);
        var body = token["ght_".Length..];
        Assert.Equal(43, body.Length);
        Assert.DoesNotContain('=', body);
        Assert.DoesNotContain('+', body);
        Assert.DoesNotContain('/', body);
        Assert.Equal(32, System.Buffers.Text.Base64Url.DecodeFromChars(body).Length);
        Assert.NotEqual(token, PasswordHasher.NewToken("ght"));
    }
}
