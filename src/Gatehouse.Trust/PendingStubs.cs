// Temporary stand-ins until the Trust branch lands; deleted at that merge.
#pragma warning disable CS1591
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Trust.Secrets
{
    public static class PasswordHasher
    {
        public static string Hash(string password) => "stub$" + HashToken(password);
        public static bool Verify(string password, string encoded) => encoded == Hash(password);
        public static string HashToken(string token) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));
        public static string NewToken(string prefix) => prefix + "_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public sealed class SecretProtector(byte[] masterKey)
    {
        public byte[] Protect(ReadOnlySpan<byte> plaintext, string purpose) => [.. plaintext, .. masterKey[..0]];
        public byte[] Unprotect(ReadOnlySpan<byte> protectedData, string purpose) => protectedData.ToArray();
        public static byte[] LoadOrCreateMasterKey(string path) => new byte[32];
    }
}

namespace Gatehouse.Trust.Certificates
{
    public sealed class CertificateAuthority : IDisposable
    {
        private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        public string CertificatePem { get; private set; } = "";
        public static CertificateAuthority Create(string tenantId, string tenantName, TimeProvider time, TimeSpan? lifetime = null)
        {
            var ca = new CertificateAuthority();
            using var cert = new CertificateRequest("CN=stub", ca._key, HashAlgorithmName.SHA256).CreateSelfSigned(time.GetUtcNow(), time.GetUtcNow().AddYears(1));
            ca.CertificatePem = cert.ExportCertificatePem();
            return ca;
        }
        public byte[] ExportPrivateKeyPkcs8() => _key.ExportPkcs8PrivateKey();
        public void Dispose() => _key.Dispose();
    }
}

namespace Gatehouse.Trust.Bundles
{
    public sealed class BundleSigningKey : IDisposable
    {
        private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        public static BundleSigningKey Generate() => new();
        public byte[] ExportPkcs8() => _key.ExportPkcs8PrivateKey();
        public string PublicKeyPem => _key.ExportSubjectPublicKeyInfoPem();
        public void Dispose() => _key.Dispose();
    }
}
