using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Trust.Bundles;
using Gatehouse.Wire.Config;

namespace Gatehouse.Trust.Tests.Bundles;

public sealed class BundleVerifierTests : IDisposable
{
    private const string Tenant = "3f2c9a7e0b1d4c6f8a9e2b7d5c1f0a3e";
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);

    private readonly BundleSigningKey _key = BundleSigningKey.Generate();
    private readonly ManualTimeProvider _time = new(Now);

    public void Dispose() => _key.Dispose();

    private static BundleHeader Header(long version = 7, DateTimeOffset? expires = null, string tenant = Tenant, string consumer = BundleConsumers.Edge) =>
        new(tenant, consumer, version, Now, expires);

    private static JsonObject Body(string rule = "allow") =>
        new() { ["rules"] = new JsonArray(new JsonObject { ["action"] = rule, ["port"] = 443, ["note"] = "line\nbreak" }) };

    private BundleVerifier Verifier(string consumer = BundleConsumers.Edge, params BundleSigningKey[] keys) =>
        new((keys.Length == 0 ? [_key] : keys).Select(k => (ReadOnlyMemory<byte>)k.PublicKeySpki), Tenant, consumer, _time);

    [Fact]
    public void Signed_bundle_verifies_and_carries_its_header_and_body()
    {
        var expires = Now.AddDays(30);
        var document = BundleSigner.Sign(Header(expires: expires), Body(), _key);

        var result = Verifier().Verify(document, null);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(Header(expires: expires), result.Bundle!.Header);
        Assert.Equal("allow", (string?)result.Bundle.Body["rules"]![0]!["action"]);
        Assert.Equal(document, result.Bundle.Document);
    }

    [Fact]
    public void Document_has_the_wire_shape()
    {
        var document = BundleSigner.Sign(Header(), new JsonObject(), _key);
        var text = Encoding.UTF8.GetString(document);

        Assert.StartsWith(
            "{\"signatures\":[{\"keyid\":\"" + _key.KeyId + "\",\"sig\":\"",
            text,
            StringComparison.Ordinal);
        Assert.EndsWith(
            "\"signed\":{\"body\":{},\"consumer\":\"edge\",\"expires\":null,\"issued\":\"2026-11-21T10:00:00Z\",\"tenant\":\"" + Tenant + "\",\"type\":\"gatehouse.config/v1\",\"version\":7}}",
            text,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Bundle_with_one_byte_changed_is_refused()
    {
        var document = BundleSigner.Sign(Header(expires: Now.AddDays(1)), Body(), _key);
        var text = Encoding.UTF8.GetString(document);
        var start = text.IndexOf("\"signed\":", StringComparison.Ordinal) + "\"signed\":".Length;
        var verifier = Verifier();
        Assert.True(verifier.Verify(document, null).IsValid);

        // Every byte of the signed part, each flipped in its lowest bit.
        for (var i = start; i < document.Length - 1; i++)
        {
            var tampered = (byte[])document.Clone();
            tampered[i] ^= 0x01;

            var result = verifier.Verify(tampered, null);

            Assert.False(result.IsValid, $"byte {i} changed and still valid");
            Assert.True(
                result.Status is BundleVerificationStatus.BadSignature or BundleVerificationStatus.Malformed,
                $"byte {i} changed gave {result.Status}: {result.Reason}");
        }
    }

    [Fact]
    public void Reformatted_but_equal_document_still_verifies()
    {
        // The signature covers the canonical form of the signed part, not the bytes on the wire.
        var document = BundleSigner.Sign(Header(), Body(), _key);
        var reformatted = JsonNode.Parse(document)!.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });

        Assert.True(Verifier().Verify(Encoding.UTF8.GetBytes(reformatted), null).IsValid);
    }

    [Fact]
    public void Older_version_is_refused_as_rollback()
    {
        var document = BundleSigner.Sign(Header(version: 6), Body(), _key);

        var result = Verifier().Verify(document, 7);

        Assert.Equal(BundleVerificationStatus.VersionRollback, result.Status);
        Assert.Null(result.Bundle);
    }

    [Fact]
    public void Newer_version_is_accepted()
    {
        var document = BundleSigner.Sign(Header(version: 8), Body(), _key);

        Assert.True(Verifier().Verify(document, 7).IsValid);
    }

    [Fact]
    public void Same_document_verified_again_is_valid()
    {
        var document = BundleSigner.Sign(Header(), Body(), _key);
        var verifier = Verifier();
        var first = verifier.Verify(document, null);
        Assert.True(first.IsValid);

        Assert.True(verifier.Verify(document, 7).IsValid);
        Assert.True(Verifier().VerifyAgainst(document, first.Bundle!).IsValid);
    }

    [Fact]
    public void Same_version_with_different_content_is_refused_as_conflict()
    {
        var verifier = Verifier();
        var first = verifier.Verify(BundleSigner.Sign(Header(), Body("allow"), _key), null);
        Assert.True(first.IsValid);
        var other = BundleSigner.Sign(Header(), Body("block"), _key);

        Assert.Equal(BundleVerificationStatus.VersionConflict, verifier.Verify(other, 7).Status);
        Assert.Equal(BundleVerificationStatus.VersionConflict, Verifier().VerifyAgainst(other, first.Bundle!).Status);
    }

    [Fact]
    public void Same_version_unknown_to_the_verifier_is_refused_as_conflict()
    {
        var document = BundleSigner.Sign(Header(), Body(), _key);

        Assert.Equal(BundleVerificationStatus.VersionConflict, Verifier().Verify(document, 7).Status);
    }

    [Fact]
    public void Bundle_signed_by_an_untrusted_key_is_refused_as_unknown_key()
    {
        using var stranger = BundleSigningKey.Generate();
        var document = BundleSigner.Sign(Header(), Body(), stranger);

        var result = Verifier().Verify(document, null);

        Assert.Equal(BundleVerificationStatus.UnknownKey, result.Status);
        Assert.False(string.IsNullOrWhiteSpace(result.Reason));
    }

    [Fact]
    public void Signature_by_another_key_claiming_a_trusted_key_id_is_refused_as_bad_signature()
    {
        using var impostor = BundleSigningKey.Generate();
        var document = BundleSigner.Sign(Header(), Body(), impostor);
        var forged = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(document).Replace(impostor.KeyId, _key.KeyId, StringComparison.Ordinal));

        Assert.Equal(BundleVerificationStatus.BadSignature, Verifier().Verify(forged, null).Status);
    }

    [Fact]
    public void Any_trusted_key_of_several_verifies()
    {
        using var next = BundleSigningKey.Generate();
        var document = BundleSigner.Sign(Header(), Body(), next);

        Assert.True(Verifier(BundleConsumers.Edge, _key, next).Verify(document, null).IsValid);
    }

    [Fact]
    public void Bundle_of_another_tenant_is_refused()
    {
        var document = BundleSigner.Sign(Header(tenant: "0000aaaa"), Body(), _key);

        Assert.Equal(BundleVerificationStatus.WrongTenant, Verifier().Verify(document, null).Status);
    }

    [Fact]
    public void Bundle_for_another_consumer_is_refused()
    {
        var document = BundleSigner.Sign(Header(consumer: BundleConsumers.Agent), Body(), _key);

        Assert.Equal(BundleVerificationStatus.WrongConsumer, Verifier(BundleConsumers.Edge).Verify(document, null).Status);
    }

    [Fact]
    public void Expired_bundle_is_refused()
    {
        var document = BundleSigner.Sign(Header(expires: Now.AddHours(1)), Body(), _key);
        var verifier = Verifier();
        Assert.True(verifier.Verify(document, null).IsValid);

        _time.Advance(TimeSpan.FromHours(1));

        Assert.Equal(BundleVerificationStatus.Expired, verifier.Verify(document, null).Status);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{\"signed\":{}}")]
    [InlineData("{\"signed\":{},\"signatures\":[],\"extra\":1}")]
    public void Malformed_documents_are_refused(string json) =>
        Assert.Equal(BundleVerificationStatus.Malformed, Verifier().Verify(Encoding.UTF8.GetBytes(json), null).Status);

    [Fact]
    public void Extra_top_level_field_is_refused_even_with_a_good_signature()
    {
        var envelope = JsonNode.Parse(BundleSigner.Sign(Header(), Body(), _key))!.AsObject();
        envelope["comment"] = "hi";

        Assert.Equal(BundleVerificationStatus.Malformed, Verifier().Verify(Encoding.UTF8.GetBytes(envelope.ToJsonString()), null).Status);
    }

    [Fact]
    public void Signed_part_of_the_wrong_type_is_refused_even_when_signed()
    {
        // Sign a hand-made document whose type is something else, with the real key.
        var document = BundleSigner.Sign(Header(), Body(), _key);
        var text = Encoding.UTF8.GetString(document).Replace("gatehouse.config/v1", "gatehouse.other/v1", StringComparison.Ordinal);

        var result = Verifier().Verify(Encoding.UTF8.GetBytes(text), null);

        Assert.Equal(BundleVerificationStatus.Malformed, result.Status);
        Assert.Contains("type", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Signing_key_round_trips_through_pkcs8()
    {
        using var loaded = BundleSigningKey.FromPkcs8(_key.ExportPkcs8());

        Assert.Equal(_key.KeyId, loaded.KeyId);
        Assert.Equal(64, loaded.KeyId.Length);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", loaded.PublicKeyPem, StringComparison.Ordinal);
        Assert.True(Verifier().Verify(BundleSigner.Sign(Header(), Body(), loaded), null).IsValid);
    }

    [Fact]
    public void Garbage_pkcs8_is_refused() =>
        Assert.Throws<TrustException>(() => BundleSigningKey.FromPkcs8([1, 2, 3]));

    [Fact]
    public void Fractional_number_in_the_body_cannot_be_signed() =>
        Assert.Throws<TrustException>(() => BundleSigner.Sign(Header(), new JsonObject { ["ratio"] = 0.5 }, _key));
}
