using System.Globalization;

namespace Gatehouse.Trust.Bundles;

/// <summary>Field names and formats of the bundle document, shared by signer and verifier.</summary>
internal static class BundleDocument
{
    public const string Signed = "signed";
    public const string Signatures = "signatures";
    public const string Type = "type";
    public const string Tenant = "tenant";
    public const string Consumer = "consumer";
    public const string Version = "version";
    public const string Issued = "issued";
    public const string Expires = "expires";
    public const string Body = "body";
    public const string KeyId = "keyid";
    public const string Sig = "sig";

    public static readonly string[] EnvelopeFields = [Signed, Signatures];
    public static readonly string[] SignedFields = [Type, Tenant, Consumer, Version, Issued, Expires, Body];
    public static readonly string[] SignatureFields = [KeyId, Sig];

    // RFC 3339 in UTC; fractions of a second only when there are any.
    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'";
    private static readonly string[] TimeFormats = [TimeFormat, "yyyy-MM-dd'T'HH:mm:ss'Z'"];

    public static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    public static bool TryParseTime(string text, out DateTimeOffset time) =>
        DateTimeOffset.TryParseExact(
            text,
            TimeFormats,
            CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal,
            out time);
}
