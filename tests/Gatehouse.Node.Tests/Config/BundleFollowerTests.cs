using Gatehouse.Testing.Portal;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Node.Config;
using Gatehouse.Node.Credentials;
using Gatehouse.Node.Enrollment;
using Gatehouse.Node.Tests.Hosting;
using Gatehouse.Testing;
using Gatehouse.Trust.Bundles;
using Gatehouse.Wire.Config;

namespace Gatehouse.Node.Tests.Config;

public sealed class BundleFollowerTests : IAsyncLifetime
{
    // Short backoff, so that catching up after a restart takes seconds, not a minute.
    private static readonly BundleFollowerOptions Fast = new() { MinBackoff = TimeSpan.FromMilliseconds(100), MaxBackoff = TimeSpan.FromMilliseconds(500) };

    private readonly string _root = Directory.CreateTempSubdirectory("gatehouse-node-follow-").FullName;
    private readonly CancellationTokenSource _timeout = new(TestTimeouts.Default);
    private TestPortal _portal = null!;
    private HttpClient _admin = null!;
    private NodeCredentialStore _store = null!;
    private NodeCredentials _credentials = null!;

    public async Task InitializeAsync()
    {
        _portal = await TestPortal.StartAsync();
        _admin = await _portal.SignInAsync();
        _store = new NodeCredentialStore(Path.Combine(_root, "agent"));
        var token = await Admin.CreateEnrollmentTokenAsync(_admin);
        _credentials = await new NodeEnrollment().EnrollDeviceAsync(_store, _portal.BaseAddress, PortalTrust.Pinned(_portal.TlsCertificatePem), token, "laptop", "linux", "1.0.0");
    }

    public async Task DisposeAsync()
    {
        _credentials.Dispose();
        _admin.Dispose();
        await _portal.DisposeAsync();
        _timeout.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private static bool HasDomain(VerifiedBundle bundle, string domain) =>
        bundle.Body["appSegments"]!.AsArray().Any(s => s!["domains"]!.AsArray().Any(d => (string?)d == domain));

    private async Task<BundleFollowerStatus> WaitForConnectionAsync(BundleFollower follower, PortalConnection connection)
    {
        while (follower.Status.Connection != connection)
        {
            Assert.False(_timeout.IsCancellationRequested, $"Still {follower.Status}, not {connection}.");
            await Task.Delay(20, CancellationToken.None);
        }

        return follower.Status;
    }

    [Fact]
    public async Task Follower_gets_the_agent_bundle_and_an_admin_change_arrives_by_long_poll()
    {
        await using var follower = new BundleFollower(_credentials, _store.LastKnownGood);
        Assert.Null(follower.Start());
        var first = await follower.WaitForVersionAsync(1, _timeout.Token);
        Assert.Equal(BundleConsumers.Agent, first.Header.Consumer);
        Assert.Equal(_credentials.Identity.TenantId.ToString(), first.Header.Tenant);
        Assert.Equal(PortalConnection.Connected, (await WaitForConnectionAsync(follower, PortalConnection.Connected)).Connection);
        Assert.Equal(first.Document, _store.LastKnownGood.Load(first.Header.Tenant, BundleConsumers.Agent));

        var changes = new List<long>();
        follower.Changed += (_, e) => changes.Add(e.Bundle.Header.Version);
        // Let the follower settle into its long poll, so the change must come through it.
        await Task.Delay(300, _timeout.Token);
        var watch = Stopwatch.StartNew();
        await Admin.CreateAppSegmentAsync(_admin, "wiki", "wiki.corp.example");
        var changed = await follower.WaitForVersionAsync(first.Header.Version + 1, _timeout.Token);

        Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.True(HasDomain(changed, "wiki.corp.example"));
        Assert.Contains(changed.Header.Version, changes);
        Assert.Same(changed, follower.Current);
        Assert.Equal(changed.Document, _store.LastKnownGood.Load(changed.Header.Tenant, BundleConsumers.Agent));
    }

    [Fact]
    public async Task A_wait_for_a_version_returns_after_the_Changed_handlers_are_done_with_it()
    {
        await using var follower = new BundleFollower(_credentials, _store.LastKnownGood);
        var first = follower.Start() ?? await follower.WaitForVersionAsync(1, _timeout.Token);
        var handled = 0L;
        using var entered = new SemaphoreSlim(0);
        using var release = new ManualResetEventSlim();
        follower.Changed += (_, e) =>
        {
            entered.Release();
            release.Wait(TestTimeouts.Default);
            Interlocked.Exchange(ref handled, e.Bundle.Header.Version);
        };

        Task<VerifiedBundle> wait;
        try
        {
            await Admin.CreateAppSegmentAsync(_admin, "wiki", "wiki.corp.example");
            await entered.WaitAsync(_timeout.Token);
            // The new bundle is in force (Current) but its handler has not finished: a wait that starts now must wait for it.
            Assert.Equal(first.Header.Version + 1, follower.Current!.Header.Version);
            wait = follower.WaitForVersionAsync(first.Header.Version + 1, _timeout.Token);
            await Task.Delay(200, _timeout.Token);
            Assert.False(wait.IsCompleted, "The wait returned while a Changed handler was still running.");
        }
        finally
        {
            release.Set();
        }

        var changed = await wait;

        Assert.Equal(changed.Header.Version, Interlocked.Read(ref handled));
    }

    [Fact]
    public async Task With_the_portal_down_a_new_follower_serves_the_last_known_good_bundle_and_catches_up_after_a_restart()
    {
        long version;
        await using (var first = new BundleFollower(_credentials, _store.LastKnownGood, Fast))
        {
            first.Start();
            await Admin.CreateAppSegmentAsync(_admin, "wiki", "wiki.corp.example");
            version = (await WaitForDomainAsync(first, "wiki.corp.example")).Header.Version;
        }

        await _portal.StopAsync();
        using var credentials = _store.Load()!;
        await using var follower = new BundleFollower(credentials, _store.LastKnownGood, Fast);

        var served = follower.Start();

        Assert.NotNull(served);
        Assert.Equal(version, served.Header.Version);
        Assert.True(HasDomain(served, "wiki.corp.example"));
        var down = await WaitForConnectionAsync(follower, PortalConnection.Unreachable);
        Assert.NotNull(down.LastError);
        Assert.NotNull(down.LastErrorAt);
        Assert.Equal(version, follower.Current!.Header.Version);

        await _portal.RestartAsync();
        var up = await WaitForConnectionAsync(follower, PortalConnection.Connected);
        Assert.True(up.LastErrorAt >= down.LastErrorAt && up.LastErrorAt <= up.Since, $"{up.LastErrorAt} {up.Since}");
        using var admin = await _portal.SignInAsync();
        await Admin.CreateAppSegmentAsync(admin, "crm", "crm.corp.example");
        var caughtUp = await WaitForDomainAsync(follower, "crm.corp.example");

        Assert.True(caughtUp.Header.Version > version);
        Assert.True(follower.Status.Since >= down.Since);
    }

    [Fact]
    public async Task Bundles_of_another_key_an_older_version_or_tampered_are_refused_and_the_current_one_stays()
    {
        await using var follower = new BundleFollower(_credentials, _store.LastKnownGood);
        follower.Start();
        var old = await follower.WaitForVersionAsync(1, _timeout.Token);
        await Admin.CreateAppSegmentAsync(_admin, "wiki", "wiki.corp.example");
        var current = await WaitForDomainAsync(follower, "wiki.corp.example");

        using var otherKey = BundleSigningKey.Generate();
        var forged = BundleSigner.Sign(
            new BundleHeader(current.Header.Tenant, BundleConsumers.Agent, current.Header.Version + 10, DateTimeOffset.UtcNow, null),
            current.Body, otherKey);
        Assert.Equal(BundleVerificationStatus.UnknownKey, follower.Offer(forged).Status);

        Assert.Equal(BundleVerificationStatus.VersionRollback, follower.Offer(old.Document).Status);

        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(current.Document).Replace("wiki.corp.example", "evil.example.com", StringComparison.Ordinal));
        Assert.Equal(BundleVerificationStatus.BadSignature, follower.Offer(tampered).Status);

        Assert.Same(current, follower.Current);
        Assert.Equal(current.Document, _store.LastKnownGood.Load(current.Header.Tenant, BundleConsumers.Agent));
        Assert.Contains("refused", follower.Status.LastError, StringComparison.Ordinal);
        Assert.True(follower.Offer(current.Document).IsValid);
        Assert.Same(current, follower.Current);
    }

    [Fact]
    public async Task A_bundle_the_node_cannot_use_is_neither_in_force_nor_saved_and_a_restart_starts_from_the_last_good_one()
    {
        await using (var follower = new BundleFollower(_credentials, _store.LastKnownGood, Fast) { Check = b => HasDomain(b, "bad.corp.example") ? "the node cannot use bad.corp.example" : null })
        {
            follower.Start();
            await Admin.CreateAppSegmentAsync(_admin, "wiki", "wiki.corp.example");
            var good = await WaitForDomainAsync(follower, "wiki.corp.example");
            await Admin.CreateAppSegmentAsync(_admin, "bad", "bad.corp.example");
            while (follower.Status.LastError?.Contains("bad.corp.example", StringComparison.Ordinal) != true)
            {
                Assert.False(_timeout.IsCancellationRequested, $"The bad bundle was not refused: {follower.Status}");
                await Task.Delay(20, CancellationToken.None);
            }

            Assert.Same(good, follower.Current);
            Assert.Equal(good.Document, _store.LastKnownGood.Load(good.Header.Tenant, BundleConsumers.Agent));
        }

        await using var restarted = new BundleFollower(_credentials, _store.LastKnownGood, Fast);
        Assert.True(HasDomain(restarted.Start()!, "wiki.corp.example"));
    }

    [Fact]
    public async Task A_throwing_change_handler_does_not_stop_the_following()
    {
        await using var follower = new BundleFollower(_credentials, _store.LastKnownGood, Fast);
        follower.Changed += (_, _) => throw new InvalidOperationException("handler bug");
        follower.Start();
        await follower.WaitForVersionAsync(1, _timeout.Token);

        await Admin.CreateAppSegmentAsync(_admin, "wiki", "wiki.corp.example");
        await WaitForDomainAsync(follower, "wiki.corp.example");
        await Admin.CreateAppSegmentAsync(_admin, "crm", "crm.corp.example");
        await WaitForDomainAsync(follower, "crm.corp.example");
    }

    [Fact]
    public async Task Tampered_last_known_good_bundle_is_not_served()
    {
        VerifiedBundle bundle;
        await using (var first = new BundleFollower(_credentials, _store.LastKnownGood))
        {
            first.Start();
            bundle = await first.WaitForVersionAsync(1, _timeout.Token);
        }

        await _portal.StopAsync();
        var path = Path.Combine(_store.Directory, NodeCredentialStore.BundleDirectory, $"{bundle.Header.Tenant}.agent.bundle.json");
        var document = JsonNode.Parse(File.ReadAllBytes(path))!;
        document["signed"]!["body"]!["appSegments"] = new JsonArray(new JsonObject { ["name"] = "evil", ["domains"] = new JsonArray("evil.example.com") });
        File.WriteAllText(path, document.ToJsonString());

        await using var follower = new BundleFollower(_credentials, _store.LastKnownGood, Fast);
        Assert.Null(follower.Start());
        Assert.Null(follower.Current);
        await WaitForConnectionAsync(follower, PortalConnection.Unreachable);
    }

    private async Task<VerifiedBundle> WaitForDomainAsync(BundleFollower follower, string domain)
    {
        while (true)
        {
            var current = follower.Current;
            if (current is not null && HasDomain(current, domain))
            {
                return current;
            }

            await follower.WaitForVersionAsync((current?.Header.Version ?? 0) + 1, _timeout.Token);
        }
    }
}
