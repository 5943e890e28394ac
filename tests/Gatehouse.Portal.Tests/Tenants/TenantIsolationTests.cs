using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Gatehouse.Portal.Tests.Enrollment;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Portal.Tests.Logs;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Logs;
using Gatehouse.Wire.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Portal.Tests.Tenants;

/// <summary>
/// Tenant A's admin must see nothing of tenant B: every API route that takes an object id answers
/// 404 for B's objects and changes nothing, and no listing shows them. The routes are read from
/// the running portal, so a new route without a case here fails this test until one is added.
/// </summary>
public sealed class TenantIsolationTests
{
    private static readonly PolicyRuleSpec SampleRule = new() { Name = "b-rule", Action = PolicyActions.Block, Criteria = new PolicyCriteria { Domains = ["blocked.b.example"] } };

    /// <summary>Makes one object of a kind in tenant B (through B's owner) and returns its id.</summary>
    private delegate Task<string> Seed(PortalServer portal, HttpClient tenantB);

    /// <summary>The object kind a route's <c>{id}</c> names, by the path segment before it.</summary>
    private static readonly Dictionary<string, Seed> Seeds = new()
    {
        ["admins"] = async (_, b) => (await Created<CreateAdminResponse>(b, "admins", new CreateAdminRequest("second@tenant-b.example", AdminRoles.Admin))).Admin.Id.ToString(),
        ["tokens"] = async (_, b) => (await Created<CreateApiTokenResponse>(b, "tokens", new CreateApiTokenRequest("b-token", [TokenScopes.Read], 1))).ApiToken.Id.ToString(),
        ["users"] = async (_, b) => (await BobAsync(b)).ToString(),
        ["proxy-credentials"] = async (_, b) => (await Created<CreateProxyCredentialResponse>(b, $"users/{await BobAsync(b)}/proxy-credentials", new CreateProxyCredentialRequest("b"))).Credential.Id.ToString(),
        ["groups"] = async (_, b) => (await Created<GroupDto>(b, "groups", new CreateGroupRequest("b-group", null))).Id.ToString(),
        ["rules"] = async (_, b) => (await Created<PolicyRuleDto>(b, "policy/rules", SampleRule)).Id.ToString(),
        ["categories"] = async (_, b) => (await Created<UrlCategoryDto>(b, "categories", new CreateUrlCategoryRequest("b-category", Domains: ["casino.b.example"]))).Id.ToString(),
        ["app-segments"] = async (_, b) => (await Created<AppSegmentDto>(b, "app-segments", new AppSegmentRequest("b-app", Domains: ["app.b.internal"], Ports: ["443"]))).Id.ToString(),
        ["segment-groups"] = async (_, b) => (await Created<SegmentGroupDto>(b, "segment-groups", new NamedObjectRequest("b-segments"))).Id.ToString(),
        ["connector-groups"] = async (_, b) => (await Created<ConnectorGroupDto>(b, "connector-groups", new NamedObjectRequest("b-connectors"))).Id.ToString(),
        ["server-groups"] = async (_, b) => (await Created<ServerGroupDto>(b, "server-groups", new ServerGroupRequest("b-servers", Servers: ["b.corp.example"]))).Id.ToString(),
        ["forwarding-profiles"] = async (_, b) => (await Created<ForwardingProfileDto>(b, "forwarding-profiles", new ForwardingProfileRequest("b-forwarding", "none", "tunnel", "tunnel"))).Id.ToString(),
        ["app-profiles"] = async (_, b) => (await Created<AppProfileDto>(b, "app-profiles", new AppProfileRequest("b-profile", FailMode: "open"))).Id.ToString(),
        ["enrollment-tokens"] = async (_, b) => (await Created<CreateEnrollmentTokenResponse>(b, "enrollment-tokens", new CreateEnrollmentTokenRequest("b"))).EnrollmentToken.Id.ToString(),
        ["provisioning-keys"] = async (_, b) => (await Created<CreateProvisioningKeyResponse>(b, "provisioning-keys", new CreateProvisioningKeyRequest("b", ProvisioningKinds.Edge))).ProvisioningKey.Id.ToString(),
        ["rollouts"] = async (portal, b) =>
        {
            // Content is published once for every tenant, by an operator; each tenant rolls it out.
            using var operatorClient = await portal.SignInAsync();
            var content = """{"channel":"bypass","schemaVersion":1,"version":"isolation-1","fields":["kind","value","ports","note"],"records":[]}"""u8.ToArray();
            var published = await operatorClient.PostAsync("content/bypass", new ByteArrayContent(content) { Headers = { ContentType = new("application/json") } });
            Assert.Equal(System.Net.HttpStatusCode.Created, published.StatusCode);
            return (await Created<RolloutDto>(b, "rollouts", new CreateRolloutRequest("bypass", "isolation-1"))).Id.ToString();
        },
        ["devices"] = async (portal, b) =>
        {
            using var device = await Enrollee.EnrollDeviceAsync(portal, await Enrollee.CreateTokenAsync(b));
            return device.Response.SubjectId.ToString();
        },
        ["edges"] = async (portal, b) =>
        {
            using var edge = await Enrollee.EnrollEdgeAsync(portal, await Enrollee.CreateProvisioningKeyAsync(b, ProvisioningKinds.Edge));
            return edge.Response.SubjectId.ToString();
        },
        ["connectors"] = async (portal, b) =>
        {
            var group = await Created<ConnectorGroupDto>(b, "connector-groups", new NamedObjectRequest("b-connector-home"));
            var key = await Enrollee.CreateProvisioningKeyAsync(b, ProvisioningKinds.Connector, group.Id);
            using var connector = await Enrollee.EnrollConnectorAsync(portal, key);
            return connector.Response.SubjectId.ToString();
        },
    };

    /// <summary>A valid body for each request type, so that a refusal can only come from isolation.</summary>
    private static readonly Dictionary<Type, object> Bodies = new()
    {
        [typeof(UpdateUserRequest)] = new UpdateUserRequest("Changed by A", true, []),
        [typeof(UpdateGroupRequest)] = new UpdateGroupRequest("changed-by-a", "A was here"),
        [typeof(PolicyRuleSpec)] = SampleRule with { Name = "changed-by-a", Action = PolicyActions.Allow },
        [typeof(AddCategoryDomainsRequest)] = new AddCategoryDomainsRequest(["a.example"], Replace: true),
        [typeof(AppSegmentRequest)] = new AppSegmentRequest("changed-by-a", Domains: ["a.example"], Ports: ["80"]),
        [typeof(NamedObjectRequest)] = new NamedObjectRequest("changed-by-a"),
        [typeof(ServerGroupRequest)] = new ServerGroupRequest("changed-by-a", Servers: ["a.corp.example"]),
        [typeof(ForwardingProfileRequest)] = new ForwardingProfileRequest("changed-by-a", "tunnel", "none", "none"),
        [typeof(AppProfileRequest)] = new AppProfileRequest("changed-by-a", FailMode: "closed"),
        [typeof(CreateProxyCredentialRequest)] = new CreateProxyCredentialRequest("made by a"),
        [typeof(RolloutActionRequest)] = new RolloutActionRequest("by a"),
    };

    [Fact]
    public Task Tenant_A_gets_404_for_every_object_of_tenant_B_and_changes_nothing_on_sqlite() => RunAsync(PortalEngines.Sqlite);

    [PostgresFact]
    public Task Tenant_A_gets_404_for_every_object_of_tenant_B_and_changes_nothing_on_postgresql() => RunAsync(PortalEngines.Postgres);

    private static async Task RunAsync(string engine)
    {
        await using var portal = await PortalEngines.StartAsync(engine);
        var (_, adminA, _, _) = await portal.CreateTenantAsync("tenant-a");
        var (tenantB, adminB, _, _) = await portal.CreateTenantAsync("tenant-b");

        var routes = IdRoutes(portal);
        Assert.NotEmpty(routes);
        var kinds = routes.SelectMany(r => r.Kinds).Distinct().ToList();
        var missing = kinds.Where(k => !Seeds.ContainsKey(k)).ToList();
        Assert.True(missing.Count == 0, $"Routes for {string.Join(", ", missing)} have no isolation case: add a seed to {nameof(TenantIsolationTests)}.");

        var ids = new Dictionary<string, string>();
        foreach (var kind in kinds)
        {
            ids[kind] = await Seeds[kind](portal, adminB);
        }

        var before = await SnapshotAsync(adminB, routes, ids);
        foreach (var route in routes)
        {
            using var request = new HttpRequestMessage(new HttpMethod(route.Method), route.Path(ids));
            if (route.BodyType is { } bodyType)
            {
                Assert.True(Bodies.TryGetValue(bodyType, out var body), $"No sample body for {bodyType.Name} ({route}): add one to {nameof(TenantIsolationTests)}.");
                request.Content = JsonContent.Create(body, bodyType, options: PortalServer.Json);
            }

            var response = await adminA.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{route} answered {(int)response.StatusCode} for tenant B's object: {await response.Content.ReadAsStringAsync()}");
        }

        Assert.Equal(before, await SnapshotAsync(adminB, routes, ids));

        // B's edge ships transaction logs: B sees them, A never does, whatever it filters on (and the
        // listing loop below checks GET /logs for every id of B too).
        using (var edgeB = await Enrollee.EnrollEdgeAsync(portal, await Enrollee.CreateProvisioningKeyAsync(adminB, ProvisioningKinds.Edge)))
        {
            ids["edge-b-logs"] = edgeB.Response.SubjectId.ToString();
            await EdgeLogs.PostAcceptedAsync(portal, edgeB, EdgeLogs.Record(edgeB, DateTimeOffset.UtcNow, "secret.b.example") with { UserEmail = "bob@tenant-b.example" });
        }

        Assert.Single((await adminB.GetFromJsonAsync<Page<TransactionLogEntryDto>>("logs", PortalServer.Json))!.Items);
        foreach (var query in new[] { "logs", "logs?host=secret.b.example", "logs?host=.b.example", "logs?user=bob@tenant-b.example", $"logs?user={ids["users"]}" })
        {
            Assert.Empty((await adminA.GetFromJsonAsync<Page<TransactionLogEntryDto>>(query, PortalServer.Json))!.Items);
        }

        // A has disaster recovery set up, so that its DR bundle is among the listings checked (without, a 404).
        using (var drEdgeA = await Enrollee.EnrollEdgeAsync(portal, await Enrollee.CreateProvisioningKeyAsync(adminA, ProvisioningKinds.Edge)))
        using (var drKey = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var dr = new PutDrSettingsRequest("_gatehouse-dr.tenant-a.example.", drKey.ExportSubjectPublicKeyInfoPem(), [drEdgeA.Response.SubjectId], null, [], PolicyActions.Allow, 30);
            (await adminA.PutAsJsonAsync("dr", dr, PortalServer.Json)).EnsureSuccessStatusCode();
        }

        foreach (var listing in ListRoutes(portal))
        {
            var response = await adminA.GetAsync(listing.TrimStart('/'));
            if (response.StatusCode == HttpStatusCode.Forbidden)
            {
                continue; // operator-only listings: A sees nothing at all
            }

            Assert.True(response.IsSuccessStatusCode, $"GET {listing} answered {(int)response.StatusCode}");
            var body = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain(tenantB.Id.ToString(), body, StringComparison.OrdinalIgnoreCase);
            foreach (var id in ids.Values)
            {
                Assert.DoesNotContain(id, body, StringComparison.OrdinalIgnoreCase);
            }
        }
    }

    /// <summary>
    /// A route and the object kind of each of its parameters (<c>{id}</c> first), named by the path segment
    /// before the parameter: <c>/users/{id}/proxy-credentials/{credentialId}</c> takes a user and a credential.
    /// </summary>
    private sealed record IdRoute(string Method, string Template, IReadOnlyList<(string Parameter, string Kind)> Parameters, Type? BodyType)
    {
        public IEnumerable<string> Kinds => Parameters.Select(p => p.Kind);

        public string Path(IReadOnlyDictionary<string, string> ids)
        {
            var path = Template;
            foreach (var (parameter, kind) in Parameters)
            {
                path = path.Replace($"{{{parameter}:guid}}", ids[kind], StringComparison.Ordinal).Replace($"{{{parameter}}}", ids[kind], StringComparison.Ordinal);
            }

            return path.TrimStart('/');
        }

        public override string ToString() => $"{Method} {Template}";
    }

    /// <summary>Every API route with an <c>{id}</c>, relative to <c>/api/v1/</c>.</summary>
    private static List<IdRoute> IdRoutes(PortalServer portal) =>
        ApiEndpoints(portal)
            .Where(e => e.RoutePattern.Parameters.Any(p => p.Name == "id"))
            .SelectMany(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Select(method =>
            {
                var template = RelativeTemplate(e);
                var segments = template.Split('/');
                var parameters = e.RoutePattern.Parameters.OrderBy(p => p.Name == "id" ? 0 : 1)
                    .Select(p => (p.Name, segments[Array.FindIndex(segments, s => s.StartsWith($"{{{p.Name}", StringComparison.Ordinal)) - 1]))
                    .ToList();
                return new IdRoute(method, template, parameters, e.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType);
            }))
            .ToList();

    /// <summary>Every parameterless GET listing under the API.</summary>
    private static List<string> ListRoutes(PortalServer portal) =>
        ApiEndpoints(portal)
            .Where(e => e.RoutePattern.Parameters.Count == 0 && e.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Contains("GET") && !IsForNodes(e))
            .Select(RelativeTemplate)
            .Where(t => !t.StartsWith("/auth", StringComparison.Ordinal) && !t.StartsWith("/openapi", StringComparison.Ordinal))
            .ToList();

    /// <summary>Routes for enrolled nodes (device, edge, connector certificates): an admin session gets 401 there, never data.</summary>
    private static bool IsForNodes(RouteEndpoint e) =>
        e.Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Any(a => a.Policy == Portal.Enrollment.CertificateAuthenticationHandler.Policy);

    private static IEnumerable<RouteEndpoint> ApiEndpoints(PortalServer portal) =>
        portal.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/v1/", StringComparison.Ordinal) == true && e.Metadata.GetMetadata<IHttpMethodMetadata>() is not null);

    private static string RelativeTemplate(RouteEndpoint e) => e.RoutePattern.RawText!["/api/v1".Length..].TrimEnd('/');

    /// <summary>What B sees of each object through every GET route, to prove A's calls changed nothing.</summary>
    private static async Task<string> SnapshotAsync(HttpClient tenantB, List<IdRoute> routes, Dictionary<string, string> ids)
    {
        var parts = new List<string>();
        foreach (var route in routes.Where(r => r.Method == "GET"))
        {
            parts.Add($"{route}: {await tenantB.GetStringAsync(route.Path(ids))}");
        }

        return string.Join('\n', parts);
    }

    /// <summary>Bob, tenant B's user, made on first use: the user seed and the credential seed both need him.</summary>
    private static async Task<Guid> BobAsync(HttpClient tenantB)
    {
        const string Email = "bob@tenant-b.example";
        var existing = (await tenantB.GetFromJsonAsync<Page<UserDto>>($"users?email={Email}", PortalServer.Json))!.Items;
        return existing.Count > 0 ? existing[0].Id : (await Created<UserDto>(tenantB, "users", new CreateUserRequest(Email, "Bob", null))).Id;
    }

    private static async Task<T> Created<T>(HttpClient client, string path, object body)
    {
        var response = await client.PostAsJsonAsync(path, body, PortalServer.Json);
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, $"Seeding {path} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<T>(PortalServer.Json))!;
    }
}
