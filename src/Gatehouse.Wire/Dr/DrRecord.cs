using System.Globalization;

namespace Gatehouse.Wire.Dr;

/// <summary>The states a disaster-recovery record can put a tenant's fleet in.</summary>
public static class DrStates
{
    /// <summary>Every device uses the DR edges.</summary>
    public const string On = "on";

    /// <summary>Normal operation through the cloud edges.</summary>
    public const string Off = "off";

    /// <summary>A drill: only devices of the drill group use the DR edges.</summary>
    public const string Test = "test";

    /// <summary>Every state.</summary>
    public static readonly IReadOnlyList<string> All = [On, Off, Test];
}

/// <summary>What devices in DR do with traffic the DR policy does not cover.</summary>
public static class DrModes
{
    /// <summary>It goes direct, not through Gatehouse.</summary>
    public const string Open = "open";

    /// <summary>It is blocked.</summary>
    public const string Closed = "closed";

    /// <summary>Every mode.</summary>
    public static readonly IReadOnlyList<string> All = [Open, Closed];
}

/// <summary>
/// The disaster-recovery trigger a customer publishes as a DNS TXT record in a domain it controls,
/// signed with the tenant's DR key (kept by the customer, not by Gatehouse):
/// <code>
/// gatehouse-dr=1 tenant=TENANT version=7 state=on mode=closed issued=1764892800 expires=1764979200 sig=BASE64URL
/// </code>
/// Everything before <c> sig=</c> is what is signed (ECDSA P-256, SHA-256, IEEE P1363 signature),
/// so the text is checked exactly as it was written. It fits one TXT string (255 bytes).
/// </summary>
/// <param name="TenantId">The tenant it is for.</param>
/// <param name="Version">Grows with every record; a device never takes one older than the last it saw.</param>
/// <param name="State">One of <see cref="DrStates"/>.</param>
/// <param name="Mode">One of <see cref="DrModes"/>.</param>
/// <param name="Issued">When it was made.</param>
/// <param name="Expires">After this it is ignored.</param>
public sealed record DrRecord(Guid TenantId, long Version, string State, string Mode, DateTimeOffset Issued, DateTimeOffset Expires)
{
    /// <summary>The first word of every record (and its format version).</summary>
    public const string Prefix = "gatehouse-dr=1";

    private const string SignatureField = " sig=";

    // Every field of format 1, in the order they are written; a new field is a new format.
    private static readonly string[] KnownFields = ["tenant", "version", "state", "mode", "issued", "expires"];

    /// <summary>The text that is signed.</summary>
    public string SignedText => string.Create(
        CultureInfo.InvariantCulture,
        $"{Prefix} tenant={TenantId:D} version={Version} state={State} mode={Mode} issued={Issued.ToUnixTimeSeconds()} expires={Expires.ToUnixTimeSeconds()}");

    /// <summary>The whole record with its signature.</summary>
    /// <param name="signature">The signature of <see cref="SignedText"/>.</param>
    /// <returns>The TXT record's text.</returns>
    public string WithSignature(ReadOnlySpan<byte> signature) => SignedText + SignatureField + Base64Url(signature);

    /// <summary>Reads a record's fields and signature; nothing is verified here.</summary>
    /// <param name="text">The TXT record's text (its strings joined).</param>
    /// <param name="record">The record.</param>
    /// <param name="signedText">The part the signature covers.</param>
    /// <param name="signature">The signature.</param>
    /// <param name="error">Why the text is not a record.</param>
    /// <returns>Whether it is a well-formed record.</returns>
    public static bool TryParse(string text, out DrRecord? record, out string signedText, out byte[] signature, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        record = null;
        signedText = string.Empty;
        signature = [];
        error = Read(text, ref record, ref signedText, ref signature);
        return error is null;
    }

    private static string? Read(string text, ref DrRecord? record, ref string signedText, ref byte[] signature)
    {
        if (!text.StartsWith(Prefix + " ", StringComparison.Ordinal))
        {
            return $"not a Gatehouse DR record (it does not start with '{Prefix} ')";
        }

        // Printable ASCII only: the signature covers the text's ASCII bytes, so no two texts may share them.
        foreach (var c in text)
        {
            if (c is < ' ' or > '~')
            {
                return "the record holds characters other than printable ASCII";
            }
        }

        var at = text.LastIndexOf(SignatureField, StringComparison.Ordinal);
        if (at < 0)
        {
            return "the record has no signature (sig=)";
        }

        if (!TryFromBase64Url(text[(at + SignatureField.Length)..], out signature))
        {
            return "the signature (sig=) is not base64url";
        }

        signedText = text[..at];
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in signedText[(Prefix.Length + 1)..].Split(' '))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                return $"the field '{pair}' is not NAME=VALUE";
            }

            var name = pair[..equals];
            if (!KnownFields.Contains(name))
            {
                return $"the field '{name}' is not one of {string.Join(", ", KnownFields)}";
            }

            if (!fields.TryAdd(name, pair[(equals + 1)..]))
            {
                return $"the field '{name}' is repeated";
            }
        }

        foreach (var name in KnownFields)
        {
            if (!fields.ContainsKey(name))
            {
                return $"the record has no {name}";
            }
        }

        if (!Guid.TryParseExact(fields["tenant"], "D", out var tenantId))
        {
            return $"tenant '{fields["tenant"]}' is not a tenant id";
        }

        if (!long.TryParse(fields["version"], NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            return $"version '{fields["version"]}' is not a whole number";
        }

        var state = fields["state"];
        if (!DrStates.All.Contains(state))
        {
            return $"state '{state}' is not one of {string.Join(", ", DrStates.All)}";
        }

        var mode = fields["mode"];
        if (!DrModes.All.Contains(mode))
        {
            return $"mode '{mode}' is not one of {string.Join(", ", DrModes.All)}";
        }

        if (!TryUnixTime(fields["issued"], out var issued))
        {
            return $"issued '{fields["issued"]}' is not a time in Unix seconds";
        }

        if (!TryUnixTime(fields["expires"], out var expires))
        {
            return $"expires '{fields["expires"]}' is not a time in Unix seconds";
        }

        if (expires <= issued)
        {
            return "the record expires before it is issued";
        }

        record = new DrRecord(tenantId, version, state, mode, issued, expires);
        return null;
    }

    private static bool TryUnixTime(string text, out DateTimeOffset at)
    {
        at = default;
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > 253_402_300_799)
        {
            return false;
        }

        at = DateTimeOffset.FromUnixTimeSeconds(seconds);
        return true;
    }

    private static string Base64Url(ReadOnlySpan<byte> bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    private static bool TryFromBase64Url(string text, out byte[] bytes)
    {
        bytes = [];

        // The alphabet of RFC 4648 section 5 without padding; the decoder would also take '=' and spaces.
        if (text.Length == 0 || text.Length % 4 == 1)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (c is not ((>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_'))
            {
                return false;
            }
        }

        bytes = System.Buffers.Text.Base64Url.DecodeFromChars(text);
        return true;
    }
}
