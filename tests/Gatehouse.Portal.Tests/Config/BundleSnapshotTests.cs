using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Testing;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Config;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Portal.Tests.Config;

/// <summary>One publication reads the tenant from one snapshot of the database.</summary>
public sealed class BundleSnapshotTests : IAsyncLifetime
{
    private readonly MidBuildWrite _hook = new();
    private PortalServer _portal = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalServer.StartWithServicesAsync(services => services.AddSingleton<IBundleContributor>(_hook));
        _admin = await _portal.SignInAsync();
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _portal.DisposeAsync();
    }

    [Fact]
    public async Task A_change_committed_while_a_build_reads_is_in_every_bundle_of_the_next_build_and_in_none_of_this_one()
    {
        var publisher = _portal.Services.GetRequiredService<ConfigPublisher>();
        var tenantId = (await _admin.GetFromJsonAsync<WhoAmIResponse>("auth/whoami", PortalServer.Json))!.TenantId;
        await publisher.SettledAsync(tenantId, TestTimeouts.Default, CancellationToken.None);

        // The next build adds an app segment through the API after it read the agent's body and before the edge's.
        _hook.Arm(BundleConsumers.Agent, async () =>
            (await _admin.PostAsJsonAsync("app-segments", new AppSegmentRequest("wiki", Domains: ["wiki.corp.example"], Ports: ["443"]), PortalServer.Json)).EnsureSuccessStatusCode());
        (await _admin.PostAsJsonAsync("groups", new CreateGroupRequest("a-change", null), PortalServer.Json)).EnsureSuccessStatusCode();
        await _hook.Fired.WaitAsync(TestTimeouts.Default);
        await _hook.Written.WaitAsync(TestTimeouts.Default);
        await publisher.SettledAsync(tenantId, TestTimeouts.Default, CancellationToken.None);

        var builds = _hook.Builds();
        Assert.All(builds, build => Assert.True(
            build.Values.Select(HasWiki).Distinct().Count() == 1,
            $"one build read two states of the tenant: {string.Join(", ", build.Select(b => $"{b.Key} {(HasWiki(b.Value) ? "with" : "without")} the segment"))}"));
        Assert.True(HasWiki(builds[^1][BundleConsumers.Edge]), "the last build has the segment");
        Assert.True(HasWiki(publisher.Slot(tenantId, BundleConsumers.Agent).Current!.Document), "the agent bundle in force has the segment");
    }

    private static bool HasWiki(JsonObject body) => body["appSegments"]?.AsArray().Any(s => (string?)s!["name"] == "wiki") == true;

    private static bool HasWiki(byte[] document) => HasWiki(JsonNode.Parse(document)!["signed"]!["body"]!.AsObject());

    /// <summary>
    /// A contributor that adds nothing and runs after the others. It records each build's bodies, and once armed,
    /// after one consumer's body it starts a write and waits for it up to a second (on SQLite a build's snapshot
    /// holds writers back until the build has read everything).
    /// </summary>
    private sealed class MidBuildWrite : IBundleContributor
    {
        private readonly List<Dictionary<string, JsonObject>> _builds = [];
        private readonly TaskCompletionSource _fired = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private string? _consumer;
        private Func<Task>? _write;

        public Task Fired => _fired.Task;

        public Task Written { get; private set; } = Task.CompletedTask;

        public void Arm(string consumer, Func<Task> write)
        {
            _consumer = consumer;
            Volatile.Write(ref _write, write);
        }

        public async Task ContributeAsync(PortalDbContext db, Guid tenantId, string consumer, JsonObject body, CancellationToken cancellationToken)
        {
            lock (_builds)
            {
                // Every build starts with the agent's body (ConfigPublisher's order of consumers).
                if (consumer == BundleConsumers.Agent || _builds.Count == 0)
                {
                    _builds.Add([]);
                }

                _builds[^1][consumer] = (JsonObject)body.DeepClone();
            }

            if (consumer != _consumer || Interlocked.Exchange(ref _write, null) is not { } write)
            {
                return;
            }

            Written = Task.Run(write, CancellationToken.None);
            await Task.WhenAny(Written, Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None));
            _fired.TrySetResult();
        }

        public IReadOnlyList<Dictionary<string, JsonObject>> Builds()
        {
            lock (_builds)
            {
                return [.. _builds];
            }
        }
    }
}
