using System.Text.Json.Nodes;
using Gatehouse.Trust.Bundles;
using Gatehouse.Wire.Config;

namespace Gatehouse.Trust.Tests.Bundles;

public sealed class LastKnownGoodStoreTests : IDisposable
{
    private const string Tenant = "3f2c9a7e0b1d4c6f8a9e2b7d5c1f0a3e";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "gatehouse-lkg-" + Guid.NewGuid().ToString("N"));
    private readonly BundleSigningKey _key = BundleSigningKey.Generate();

    private string Directory_ => Path.Combine(_root, "bundles");

    public void Dispose()
    {
        _key.Dispose();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private VerifiedBundle Verified(long version)
    {
        var document = BundleSigner.Sign(
            new BundleHeader(Tenant, BundleConsumers.Agent, version, DateTimeOffset.UnixEpoch, null),
            new JsonObject { ["v"] = version },
            _key);
        var verifier = new BundleVerifier([_key.PublicKeySpki], Tenant, BundleConsumers.Agent, TimeProvider.System);
        return verifier.Verify(document, null).Bundle!;
    }

    [Fact]
    public void Saved_bundle_loads_back_and_verifies_again()
    {
        var store = new LastKnownGoodStore(Directory_);
        var bundle = Verified(3);

        store.Save(bundle);
        var loaded = store.Load(Tenant, BundleConsumers.Agent);

        Assert.Equal(bundle.Document, loaded);
        var verifier = new BundleVerifier([_key.PublicKeySpki], Tenant, BundleConsumers.Agent, TimeProvider.System);
        Assert.True(verifier.Verify(loaded, null).IsValid);
    }

    [Fact]
    public void Nothing_stored_loads_as_null()
    {
        Assert.Null(new LastKnownGoodStore(Directory_).Load(Tenant, BundleConsumers.Edge));
    }

    [Fact]
    public void Saving_again_replaces_the_stored_bundle()
    {
        var store = new LastKnownGoodStore(Directory_);
        store.Save(Verified(3));
        var newer = Verified(4);

        store.Save(newer);

        Assert.Equal(newer.Document, store.Load(Tenant, BundleConsumers.Agent));
        Assert.Single(Directory.GetFiles(Directory_));
    }

    [Fact]
    public void Stored_file_is_readable_by_its_owner_only()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Unix file modes only.
        }

        var store = new LastKnownGoodStore(Directory_);

        store.Save(Verified(3));

        var file = Assert.Single(Directory.GetFiles(Directory_));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Directory_));
    }

    [Fact]
    public void Crash_before_the_rename_leaves_the_previous_bundle_intact()
    {
        var store = new LastKnownGoodStore(Directory_);
        var old = Verified(3);
        store.Save(old);
        store.BeforeRename = _ => throw new IOException("simulated crash");

        Assert.Throws<IOException>(() => store.Save(Verified(4)));

        Assert.Equal(old.Document, store.Load(Tenant, BundleConsumers.Agent));
        Assert.Single(Directory.GetFiles(Directory_));
    }

    [Fact]
    public void Failed_rename_leaves_no_temporary_file_behind()
    {
        // A directory where the bundle file belongs makes the rename fail.
        var store = new LastKnownGoodStore(Directory_);
        Directory.CreateDirectory(Path.Combine(Directory_, $"{Tenant}.agent.bundle.json"));

        Assert.ThrowsAny<IOException>(() => store.Save(Verified(3)));

        Assert.Empty(Directory.GetFiles(Directory_));
    }

    [Theory]
    [InlineData("../etc")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("a.b")]
    [InlineData("..")]
    [InlineData("")]
    public void Ids_that_could_escape_the_directory_are_refused(string tenant)
    {
        var store = new LastKnownGoodStore(Directory_);

        Assert.ThrowsAny<ArgumentException>(() => store.Load(tenant, BundleConsumers.Agent));
        Assert.ThrowsAny<ArgumentException>(() => store.Load(Tenant, tenant));
    }
}
