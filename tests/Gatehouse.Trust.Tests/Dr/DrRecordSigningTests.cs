using System.Security.Cryptography;
using System.Text;
using Gatehouse.Trust.Dr;
using Gatehouse.Wire.Dr;

namespace Gatehouse.Trust.Tests.Dr;

/// <summary>
/// A DR record is taken only when it is signed by the tenant's DR key, for that tenant, not older
/// than the last one seen and not expired; anything else says why.
/// </summary>
public sealed class DrRecordSigningTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_764_892_800);
    private static readonly Guid Tenant = Guid.Parse("0b6f3c1e-6a8f-4b8e-9c55-2f0d7a1e4c93");

    private readonly ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private byte[] PublicKey => key.ExportSubjectPublicKeyInfo();

    public void Dispose() => key.Dispose();

    [Fact]
    public void A_signed_record_verifies()
    {
        var text = Sign(Record());

        var result = DrRecordSigning.Verify(text, PublicKey, Tenant, lastVersion: null, Now);

        Assert.Equal(DrRecordStatus.Valid, result.Status);
        Assert.True(result.IsValid);
        Assert.Equal(Record(), result.Record);
    }

    [Fact]
    public void A_record_signed_with_another_key_has_a_bad_signature()
    {
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var text = DrRecordSigning.Sign(Record(), other);

        var result = DrRecordSigning.Verify(text, PublicKey, Tenant, null, Now);

        Assert.Equal(DrRecordStatus.BadSignature, result.Status);
        Assert.False(result.IsValid);
    }

    [Fact]
    public void A_record_whose_state_is_changed_after_signing_has_a_bad_signature()
    {
        var text = Sign(Record() with { State = DrStates.Off });
        var tampered = text.Replace("state=off", "state=on", StringComparison.Ordinal);
        Assert.NotEqual(text, tampered);

        var result = DrRecordSigning.Verify(tampered, PublicKey, Tenant, null, Now);

        Assert.Equal(DrRecordStatus.BadSignature, result.Status);
    }

    [Fact]
    public void A_record_for_another_tenant_is_refused()
    {
        var text = Sign(Record() with { TenantId = Guid.NewGuid() });

        var result = DrRecordSigning.Verify(text, PublicKey, Tenant, null, Now);

        Assert.Equal(DrRecordStatus.WrongTenant, result.Status);
        Assert.Contains(Tenant.ToString(), result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_version_older_than_the_last_seen_is_refused_and_an_equal_one_is_taken()
    {
        var text = Sign(Record() with { Version = 7 });

        Assert.Equal(DrRecordStatus.OlderVersion, DrRecordSigning.Verify(text, PublicKey, Tenant, lastVersion: 8, Now).Status);
        Assert.Equal(DrRecordStatus.Valid, DrRecordSigning.Verify(text, PublicKey, Tenant, lastVersion: 7, Now).Status);
        Assert.Equal(DrRecordStatus.Valid, DrRecordSigning.Verify(text, PublicKey, Tenant, lastVersion: 6, Now).Status);
    }

    [Fact]
    public void A_record_past_its_expiry_is_expired()
    {
        var text = Sign(Record() with { Issued = Now.AddHours(-25), Expires = Now.AddHours(-1) });

        var result = DrRecordSigning.Verify(text, PublicKey, Tenant, null, Now);

        Assert.Equal(DrRecordStatus.Expired, result.Status);
        Assert.Equal(DrRecordStatus.Expired, DrRecordSigning.Verify(Sign(Record()), PublicKey, Tenant, null, Record().Expires).Status);
    }

    [Fact]
    public void A_record_issued_more_than_five_minutes_ahead_is_expired_and_within_five_minutes_is_taken()
    {
        var ahead = Sign(Record() with { Issued = Now.AddMinutes(5).AddSeconds(1) });
        var skewed = Sign(Record() with { Issued = Now.AddMinutes(5) });

        var result = DrRecordSigning.Verify(ahead, PublicKey, Tenant, null, Now);

        Assert.Equal(DrRecordStatus.Expired, result.Status);
        Assert.Contains("future", result.Reason, StringComparison.Ordinal);
        Assert.Equal(DrRecordStatus.Valid, DrRecordSigning.Verify(skewed, PublicKey, Tenant, null, Now).Status);
    }

    [Theory]
    [InlineData("state=on", "state=maybe", "state 'maybe' is not one of on, off, test")]
    [InlineData("mode=closed", "mode=ajar", "mode 'ajar' is not one of open, closed")]
    [InlineData(" mode=closed", "", "the record has no mode")]
    [InlineData(" version=7", "", "the record has no version")]
    [InlineData("version=7", "version=-7", "version '-7' is not a whole number")]
    [InlineData("version=7", "version=7 version=8", "the field 'version' is repeated")]
    [InlineData("version=7", "version=7 colour=red", "the field 'colour' is not one of")]
    [InlineData("gatehouse-dr=1", "gatehouse-dr=2", "not a Gatehouse DR record")]
    public void A_text_with_a_missing_or_wrong_field_is_malformed_with_the_reason(string field, string replacement, string reason)
    {
        var text = Sign(Record()).Replace(field, replacement, StringComparison.Ordinal);

        var result = DrRecordSigning.Verify(text, PublicKey, Tenant, null, Now);

        Assert.Equal(DrRecordStatus.Malformed, result.Status);
        Assert.Null(result.Record);
        Assert.Contains(reason, result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("!!!!")]
    [InlineData("abc+def/")]
    [InlineData("AAAA==")]
    [InlineData("")]
    [InlineData("A")]
    public void A_signature_that_is_not_base64url_is_malformed(string signature)
    {
        var text = Record().SignedText + " sig=" + signature;

        var result = DrRecordSigning.Verify(text, PublicKey, Tenant, null, Now);

        Assert.Equal(DrRecordStatus.Malformed, result.Status);
        Assert.Contains("not base64url", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_text_without_a_signature_is_malformed()
    {
        var result = DrRecordSigning.Verify(Record().SignedText, PublicKey, Tenant, null, Now);

        Assert.Equal(DrRecordStatus.Malformed, result.Status);
        Assert.Contains("no signature", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_that_would_not_read_back_is_not_signed()
    {
        Assert.Throws<ArgumentException>(() => Sign(Record() with { State = "maybe" }));
        Assert.Throws<ArgumentException>(() => Sign(Record() with { Version = -1 }));
        Assert.Throws<ArgumentException>(() => Sign(Record() with { Expires = Now.AddHours(-1) }));
    }

    [Fact]
    public void A_key_that_is_not_P256_is_refused()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);

        Assert.Throws<ArgumentException>(() => DrRecordSigning.Sign(Record(), p384));
        Assert.Equal(DrRecordStatus.BadSignature, DrRecordSigning.Verify(Sign(Record()), p384.ExportSubjectPublicKeyInfo(), Tenant, null, Now).Status);
    }

    [Fact]
    public void The_longest_record_fits_one_TXT_string()
    {
        var longest = new DrRecord(Tenant, long.MaxValue, DrStates.Test, DrModes.Closed, DateTimeOffset.MaxValue.AddYears(-1), DateTimeOffset.MaxValue);

        var text = Sign(longest);

        Assert.Equal(36, Tenant.ToString().Length);
        Assert.True(Encoding.ASCII.GetByteCount(text) <= 255, $"{text.Length} bytes: {text}");
        Assert.Equal(DrRecordStatus.Valid, DrRecordSigning.Verify(text, PublicKey, Tenant, long.MaxValue, longest.Issued).Status);
    }

    private static DrRecord Record() => new(Tenant, 7, DrStates.On, DrModes.Closed, Now.AddMinutes(-1), Now.AddHours(24));

    private string Sign(DrRecord record) => DrRecordSigning.Sign(record, key);
}
