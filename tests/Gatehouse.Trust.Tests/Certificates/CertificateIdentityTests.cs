using Gatehouse.Trust.Certificates;

namespace Gatehouse.Trust.Tests.Certificates;

public class CertificateIdentityTests
{
    [Fact]
    public void Identity_parses_from_its_own_uri()
    {
        var identity = new CertificateIdentity("0123", IdentityKinds.Edge, "e-1");

        Assert.True(CertificateIdentity.TryParse(identity.ToUriString(), out var parsed));
        Assert.Equal(identity, parsed);
        Assert.Equal("gatehouse://0123/edge/e-1", identity.ToUriString());
    }

    [Theory]
    [InlineData("Upper", IdentityKinds.Device, "x")]
    [InlineData("a.b", IdentityKinds.Device, "x")]
    [InlineData("", IdentityKinds.Device, "x")]
    [InlineData("t", "user", "x")]
    [InlineData("t", IdentityKinds.Device, "a/b")]
    [InlineData("t", IdentityKinds.Device, "0123456789012345678901234567890123456789012345678901234567890123456789")]
    public void Invalid_parts_are_refused(string tenant, string kind, string subject) =>
        Assert.Throws<ArgumentException>(() => new CertificateIdentity(tenant, kind, subject));

    [Theory]
    [InlineData("https://t/device/x")]
    [InlineData("gatehouse://t/device")]
    [InlineData("gatehouse://t/device/x/y")]
    [InlineData("gatehouse://T/device/x")]
    [InlineData("gatehouse://t/robot/x")]
    [InlineData("gatehouse://t/device/x?y")]
    public void Malformed_uris_do_not_parse(string uri) =>
        Assert.False(CertificateIdentity.TryParse(uri, out _));
}
