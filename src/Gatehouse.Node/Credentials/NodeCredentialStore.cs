using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gatehouse.Trust.Bundles;

namespace Gatehouse.Node.Credentials;

/// <summary>
/// A node's credentials on disk, in one directory readable by its owner only (mode 0700, files 0600),
/// for example <c>/var/lib/gatehouse/agent</c>. See docs/node.md.
/// </summary>
/// <remarks>
/// Every file is replaced atomically (temporary file, flush, rename). <c>node.json</c> is written
/// last and read first: a directory without it is "not enrolled", and a directory with it but
/// with a missing or unreadable file is refused as corrupt rather than half-read.
/// </remarks>
/// <param name="directory">The store's directory; it is created on the first save.</param>
public sealed class NodeCredentialStore(string directory)
{
    /// <summary>The node's P-256 private key, PKCS#8 PEM.</summary>
    public const string KeyFile = "node.key";

    /// <summary>The node's certificate, PEM.</summary>
    public const string CertificateFile = "node.crt";

    /// <summary>The tenant CA certificate, PEM.</summary>
    public const string TenantCaFile = "tenant-ca.crt";

    /// <summary>The tenant's config-signing public key, PEM.</summary>
    public const string ConfigKeyFile = "config-key.pem";

    /// <summary>The certificate the portal's TLS must chain to, pinned at enrollment (absent when the system roots are trusted).</summary>
    public const string PortalCaFile = "portal-ca.crt";

    /// <summary>Who the node is: portal URL, tenant, kind, subject, config path.</summary>
    public const string IdentityFile = "node.json";

    /// <summary>The subdirectory that holds the last-known-good config bundle.</summary>
    public const string BundleDirectory = "bundles";

    private const int Format = 1;
    private const string TrustPinned = "pinned";
    private const string TrustSystem = "system";

    /// <summary>The store's directory, as a full path.</summary>
    public string Directory { get; } = Path.GetFullPath(directory);

    /// <summary>Whether the store holds an enrollment (its <c>node.json</c> exists); the other files are checked by <see cref="Load"/>.</summary>
    public bool IsEnrolled => File.Exists(PathOf(IdentityFile));

    /// <summary>Where the config bundle in force is kept, so that it survives restarts and portal outages.</summary>
    public LastKnownGoodStore LastKnownGood => new(PathOf(BundleDirectory));

    /// <summary>Reads the credentials.</summary>
    /// <returns>The credentials (the caller disposes them), or <see langword="null"/> when the node is not enrolled.</returns>
    /// <exception cref="NodeException">The store is incomplete, unreadable, or its key is readable by others (<see cref="NodeErrorReason.CorruptStore"/>).</exception>
    public NodeCredentials? Load()
    {
        var identityText = ReadOrNull(IdentityFile);
        if (identityText is null)
        {
            return null;
        }

        var (identity, pinned) = ParseIdentity(identityText);
        var keyPem = ReadRequired(KeyFile);
        RequireOwnerOnly(KeyFile);
        var certificatePem = ReadRequired(CertificateFile);
        var caPem = ReadRequired(TenantCaFile);
        var configKeyPem = ReadRequired(ConfigKeyFile);
        PortalTrust trust;
        if (pinned)
        {
            try
            {
                trust = PortalTrust.Pinned(ReadRequired(PortalCaFile));
            }
            catch (ArgumentException)
            {
                throw Corrupt($"{PortalCaFile} is not a readable PEM certificate.");
            }
        }
        else
        {
            trust = PortalTrust.SystemRoots;
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(keyPem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            key.Dispose();
            throw Corrupt($"{KeyFile} is not a readable PKCS#8 PEM private key.");
        }

        return NodeCredentials.Create(identity, trust, key, certificatePem, caPem, configKeyPem, NodeErrorReason.CorruptStore, $"The credential store {Directory}");
    }

    /// <summary>
    /// Writes the credentials: the directory becomes 0700, each file 0600, each replaced atomically,
    /// <c>node.json</c> last. A previous enrollment's files are replaced.
    /// </summary>
    /// <param name="credentials">The credentials to keep.</param>
    /// <exception cref="IOException">A file cannot be written.</exception>
    public void Save(NodeCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        AtomicFile.EnsureOwnerDirectory(Directory);
        Write(KeyFile, credentials.Key.ExportPkcs8PrivateKeyPem());
        Write(CertificateFile, credentials.Certificate.ExportCertificatePem());
        Write(TenantCaFile, credentials.TenantCa.ExportCertificatePem());
        Write(ConfigKeyFile, credentials.ConfigKeyPem);
        if (credentials.PortalTrust.CaCertificatePem is { } portalCa)
        {
            Write(PortalCaFile, portalCa);
        }
        else
        {
            File.Delete(PathOf(PortalCaFile));
        }

        var identity = credentials.Identity;
        var document = new IdentityDocument(
            Format, identity.PortalUrl.AbsoluteUri, identity.TenantId, identity.Kind, identity.SubjectId, identity.ConfigPath,
            credentials.PortalTrust.IsSystemRoots ? TrustSystem : TrustPinned);
        Write(IdentityFile, JsonSerializer.Serialize(document, IdentityDocumentJson.Default.IdentityDocument) + "\n");
    }

    /// <summary>Removes the whole store, last-known-good bundle included (log out). Nothing to remove is not an error.</summary>
    public void Delete()
    {
        if (System.IO.Directory.Exists(Directory))
        {
            // node.json first: an interrupted delete leaves a store that reads as "not enrolled", not one half there.
            File.Delete(PathOf(IdentityFile));
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    private string PathOf(string file) => Path.Combine(Directory, file);

    private void Write(string file, string text) => AtomicFile.Write(PathOf(file), Encoding.UTF8.GetBytes(text));

    private string? ReadOrNull(string file)
    {
        try
        {
            return File.ReadAllText(PathOf(file));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Corrupt($"{file} cannot be read ({e.Message}).", e);
        }
    }

    private string ReadRequired(string file) => ReadOrNull(file) ?? throw Corrupt($"{file} is missing.");

    private void RequireOwnerOnly(string file)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var mode = File.GetUnixFileMode(PathOf(file));
        if ((mode & ~AtomicFile.OwnerReadWrite) != 0)
        {
            throw Corrupt($"{file} is readable or writable by others than its owner (mode {Convert.ToString((int)mode, 8)}); it must be 0600.");
        }
    }

    private (NodeIdentity Identity, bool Pinned) ParseIdentity(string text)
    {
        IdentityDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(text, IdentityDocumentJson.Default.IdentityDocument);
        }
        catch (JsonException)
        {
            throw Corrupt($"{IdentityFile} is not valid JSON.");
        }

        if (document is null || document.Format != Format)
        {
            throw Corrupt($"{IdentityFile} is not a format {Format} node identity.");
        }

        if (!Uri.TryCreate(document.PortalUrl, UriKind.Absolute, out var portal) || portal.Scheme != Uri.UriSchemeHttps)
        {
            throw Corrupt($"{IdentityFile} has no https portal URL.");
        }

        if (!Trust.Certificates.IdentityKinds.IsKnown(document.Kind) || document.TenantId == Guid.Empty || document.SubjectId == Guid.Empty
            || string.IsNullOrEmpty(document.ConfigPath) || !document.ConfigPath.StartsWith('/') || document.PortalTrust is not (TrustPinned or TrustSystem))
        {
            throw Corrupt($"{IdentityFile} lacks a valid tenant, kind, subject, config path or portal trust.");
        }

        return (new NodeIdentity(portal, document.TenantId, document.Kind, document.SubjectId, document.ConfigPath), document.PortalTrust == TrustPinned);
    }

    private NodeException Corrupt(string what, Exception? inner = null) =>
        new(NodeErrorReason.CorruptStore, $"The credential store {Directory} is not usable: {what} Enroll again after removing it.", innerException: inner);

    internal sealed record IdentityDocument(int Format, string PortalUrl, Guid TenantId, string Kind, Guid SubjectId, string ConfigPath, string PortalTrust);
}

/// <summary><c>node.json</c>, indented, without reflection.</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(NodeCredentialStore.IdentityDocument))]
internal sealed partial class IdentityDocumentJson : System.Text.Json.Serialization.JsonSerializerContext;
