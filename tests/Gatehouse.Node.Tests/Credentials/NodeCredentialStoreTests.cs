using System.Security.Cryptography;
using Gatehouse.Node.Credentials;
using Gatehouse.Trust.Bundles;
using Gatehouse.Trust.Certificates;

namespace Gatehouse.Node.Tests.Credentials;

public sealed class NodeCredentialStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("gatehouse-node-store-").FullName;
    private readonly NodeCredentialStore _store;

    public NodeCredentialStoreTests() => _store = new NodeCredentialStore(Path.Combine(_root, "agent"));

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>Credentials as the portal would issue them, made with a local tenant CA.</summary>
    internal static NodeCredentials Issue(Guid? tenant = null, ECDsa? certifiedKey = null)
    {
        var tenantId = tenant ?? Guid.NewGuid();
        var subject = Guid.NewGuid();
        using var ca = CertificateAuthority.Create(tenantId.ToString(), "test", TimeProvider.System);
        using var configKey = BundleSigningKey.Generate();
        var key = CertificateSigningRequests.CreateKey();
        var issued = ca.Issue(CertificateSigningRequests.Create(certifiedKey ?? key, "laptop"), new CertificateIdentity(tenantId.ToString(), IdentityKinds.Device, subject.ToString()), TimeSpan.FromDays(30));
        var identity = new NodeIdentity(new Uri("https://127.0.0.1:7443/"), tenantId, IdentityKinds.Device, subject, "/api/v1/config/agent");
        return NodeCredentials.Create(identity, PortalTrust.Pinned(ca.CertificatePem), key, issued.CertificatePem, ca.CertificatePem, configKey.PublicKeyPem);
    }

    [Fact]
    public void Saved_credentials_load_back_from_owner_only_files()
    {
        Assert.Null(_store.Load());
        using var credentials = Issue();
        _store.Save(credentials);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_store.Directory));
        foreach (var file in new[] { NodeCredentialStore.KeyFile, NodeCredentialStore.CertificateFile, NodeCredentialStore.TenantCaFile, NodeCredentialStore.ConfigKeyFile, NodeCredentialStore.PortalCaFile, NodeCredentialStore.IdentityFile })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_store.Directory, file)));
        }

        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(Path.Combine(_store.Directory, NodeCredentialStore.KeyFile)), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_store.Directory, "*.tmp"));

        using var loaded = _store.Load();
        Assert.NotNull(loaded);
        Assert.Equal(credentials.Identity, loaded.Identity);
        Assert.Equal(credentials.Certificate.RawData, loaded.Certificate.RawData);
        Assert.Equal(credentials.PortalTrust.CaCertificatePem, loaded.PortalTrust.CaCertificatePem);
        Assert.True(loaded.ConfigKeySpki.Span.SequenceEqual(credentials.ConfigKeySpki.Span));
        using var withKey = loaded.CreateCertificateWithKey();
        Assert.True(withKey.HasPrivateKey);
    }

    [Fact]
    public void Corrupt_key_is_a_clear_error_not_a_half_read_key()
    {
        using (var credentials = Issue())
        {
            _store.Save(credentials);
        }

        var keyPath = Path.Combine(_store.Directory, NodeCredentialStore.KeyFile);
        var pem = File.ReadAllText(keyPath);
        File.WriteAllText(keyPath, pem[..(pem.Length / 2)]);

        var error = Assert.Throws<NodeException>(_store.Load);
        Assert.Equal(NodeErrorReason.CorruptStore, error.Reason);
        Assert.False(error.IsTransient);
        Assert.Contains(NodeCredentialStore.KeyFile, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Key_of_another_node_is_refused()
    {
        using (var credentials = Issue())
        {
            _store.Save(credentials);
        }

        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(Path.Combine(_store.Directory, NodeCredentialStore.KeyFile), other.ExportPkcs8PrivateKeyPem());

        var error = Assert.Throws<NodeException>(_store.Load);
        Assert.Equal(NodeErrorReason.CorruptStore, error.Reason);
        Assert.Contains("not for the node's key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_certificate_or_a_key_readable_by_others_is_refused()
    {
        using (var credentials = Issue())
        {
            _store.Save(credentials);
        }

        var keyPath = Path.Combine(_store.Directory, NodeCredentialStore.KeyFile);
        File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var error = Assert.Throws<NodeException>(_store.Load);
        Assert.Contains("0600", error.Message, StringComparison.Ordinal);

        File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Delete(Path.Combine(_store.Directory, NodeCredentialStore.CertificateFile));
        error = Assert.Throws<NodeException>(_store.Load);
        Assert.Equal(NodeErrorReason.CorruptStore, error.Reason);
        Assert.Contains($"{NodeCredentialStore.CertificateFile} is missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Certificate_for_another_key_is_refused_when_assembling()
    {
        using var someoneElse = CertificateSigningRequests.CreateKey();
        var error = Assert.Throws<NodeException>(() => Issue(certifiedKey: someoneElse));
        Assert.Equal(NodeErrorReason.InvalidAnswer, error.Reason);
    }

    [Fact]
    public void Delete_removes_everything_including_the_last_known_good_bundle()
    {
        using (var credentials = Issue())
        {
            _store.Save(credentials);
        }

        Directory.CreateDirectory(Path.Combine(_store.Directory, NodeCredentialStore.BundleDirectory));
        File.WriteAllText(Path.Combine(_store.Directory, NodeCredentialStore.BundleDirectory, "x.agent.bundle.json"), "{}");

        _store.Delete();

        Assert.False(Directory.Exists(_store.Directory));
        Assert.False(_store.IsEnrolled);
        Assert.Null(_store.Load());
        _store.Delete();
    }

    [Fact]
    public void Renewal_is_due_in_the_last_third_of_the_lifetime()
    {
        using var credentials = Issue();
        var lifetime = credentials.NotAfter - credentials.NotBefore;
        Assert.False(credentials.ShouldRenew(credentials.NotBefore + (lifetime / 2)));
        Assert.True(credentials.ShouldRenew(credentials.NotBefore + (lifetime * 0.7)));
    }
}
