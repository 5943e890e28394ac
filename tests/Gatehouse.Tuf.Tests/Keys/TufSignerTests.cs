using System.Security.Cryptography;
using Gatehouse.Tuf.Keys;
using Gatehouse.Tuf.Metadata;
using Gatehouse.Tuf.Tests.Client;
using Gatehouse.Tuf.Tests.Repository;

namespace Gatehouse.Tuf.Tests.Keys;

public sealed class TufSignerTests
{
    [Fact]
    public void A_key_written_to_pem_signs_the_same_after_reading_it_back()
    {
        using var ecdsa = TufSigner.GenerateEcdsa();
        using var rsa = TufSigner.RsaPss(RSA.Create(2048));

        using var ecdsaBack = TufSigner.FromPem(ecdsa.ExportPrivateKeyPem());
        using var rsaBack = TufSigner.FromPem(rsa.ExportPrivateKeyPem());

        Assert.Equal(ecdsa.KeyId, ecdsaBack.KeyId);
        Assert.Equal(rsa.KeyId, rsaBack.KeyId);
        Assert.True(ecdsa.PublicKey.Verify("data"u8, ecdsaBack.Sign("data"u8)));
        Assert.True(rsa.PublicKey.Verify("data"u8, rsaBack.Sign("data"u8)));
        Assert.False(rsa.PublicKey.Verify("data!"u8, rsaBack.Sign("data"u8)));
    }

    [Fact]
    public void Weak_or_unsupported_keys_are_refused()
    {
        Assert.Throws<ArgumentException>(() => TufSigner.RsaPss(RSA.Create(1024)));
        Assert.Throws<ArgumentException>(() => TufSigner.Ecdsa(ECDsa.Create(ECCurve.NamedCurves.nistP384)));
        Assert.Equal(TufFailure.Malformed, Assert.Throws<TufException>(() => TufSigner.FromPem("not a key")).Failure);
    }

    [Fact]
    public void A_key_of_an_unknown_scheme_never_verifies()
    {
        using var signer = TufSigner.GenerateEcdsa();
        var ed25519 = TufKey.Create("ed25519", "ed25519", signer.PublicKey.PublicKey);

        Assert.False(ed25519.Verify("data"u8, signer.Sign("data"u8)));
    }

    [Fact]
    public async Task A_repository_signed_with_rsa_pss_keys_and_a_threshold_of_two_verifies()
    {
        var repository = new RepositorySimulator(DateTimeOffset.UtcNow);
        foreach (var role in new[] { RoleNames.Root, RoleNames.Timestamp, RoleNames.Snapshot, RoleNames.Targets })
        {
            repository.Signers[role] = [TufSigner.RsaPss(RSA.Create(2048)), TufSigner.GenerateEcdsa()];
            repository.Thresholds[role] = 2;
        }

        repository.PublishRoot();
        repository.AddTarget("agent/a", "a"u8.ToArray());
        repository.PublishAll();
        await using var client = await ClientUnderTest.StartAsync(repository);

        Assert.Equal("a", await File.ReadAllTextAsync(await client.DownloadAsync("agent/a")));
    }
}
