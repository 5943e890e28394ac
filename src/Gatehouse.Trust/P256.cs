using System.Security.Cryptography;

namespace Gatehouse.Trust;

/// <summary>The one curve Gatehouse signs with: NIST P-256 (secp256r1).</summary>
internal static class P256
{
    public const string CurveOid = "1.2.840.10045.3.1.7";

    public static bool Is(ECDsa key)
    {
        var curve = key.ExportParameters(includePrivateParameters: false).Curve;
        return curve.IsNamed && (curve.Oid.Value == CurveOid || curve.Oid.FriendlyName is "nistP256" or "ECDSA_P256" or "secp256r1");
    }
}
