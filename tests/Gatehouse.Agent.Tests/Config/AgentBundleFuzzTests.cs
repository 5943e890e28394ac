using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Agent.Bundles;
using Gatehouse.Testing;
using Gatehouse.Testing.Json;
using Gatehouse.Trust.Bundles;
using Gatehouse.Wire.Config;

namespace Gatehouse.Agent.Tests.Config;

/// <summary>
/// A verified bundle the agent cannot use must be refused with a <see cref="FormatException"/>: that is what the data
/// plane catches to keep the previous bundle in force (<c>DataPlaneHost.Refusal</c>). Bundles are signed by the portal,
/// but a portal of another release, or a bug in one, writes what this agent does not expect.
/// </summary>
[Trait(Fuzzing.Trait, Fuzzing.Category)]
public sealed class AgentBundleFuzzTests
{
    // Every part AgentBundle reads, shaped as the portal writes it.
    private const string Body = """
        {
          "tenant": { "id": "5b0c2a4e-8f7e-4a57-9d3e-0c1f2b3a4d5e", "name": "acme" },
          "edges": [ { "name": "edge-1", "address": "edge1.acme.example:7444" }, { "name": "edge-2", "address": "10.0.0.2:7444" } ],
          "appProfiles": [
            { "name": "engineering", "groupIds": [ "0f8fad5b-d9cb-469f-a165-70867728950e" ], "failMode": "open" },
            { "name": "everyone", "groupIds": [], "failMode": "closed", "logoutPasswordHash": "pbkdf2$1$a$b", "disablePasswordHash": null,
              "forwardingProfile": "office", "captivePortalPauseMinutes": 10,
              "trustedNetwork": { "dnsServers": [ "10.0.0.53" ], "searchDomains": [ "corp.example" ], "hostResolves": { "host": "intranet.corp.example", "address": "10.0.0.9" }, "beacon": { "address": "10.0.0.1:443", "sha256": "AB:CD" } } }
          ],
          "forwardingProfiles": [ { "name": "office", "trusted": "none", "untrusted": "tunnel", "vpn": "local-proxy" } ],
          "appSegments": [ { "name": "crm", "domains": [ "crm.corp.example", "*.crm.corp.example" ], "cidrs": [ "10.20.0.0/16" ], "ports": [ "443" ] } ],
          "dr": { "recordName": "_dr.acme.example", "publicKey": "AAAA", "edges": [ { "name": "dr-1", "address": "dr1.acme.example:7444" } ], "drillGroupId": "0f8fad5b-d9cb-469f-a165-70867728950e", "checkSeconds": 60 }
        }
        """;

    [Fact]
    public void The_bundle_the_portal_writes_is_read()
    {
        var bundle = AgentBundle.From(Verified(JsonNode.Parse(Body)!.AsObject()), [Guid.Parse("9b2f7c1a-1111-4e3b-8a7a-2c3d4e5f6a7b")]);

        Assert.Equal("everyone", bundle.AppProfile);
        Assert.Equal(2, bundle.Edges.Count);
        Assert.Equal("none", bundle.Forwarding.Trusted);
        Assert.Equal("_dr.acme.example", bundle.Dr!.RecordName);
    }

    [Fact]
    public void A_mutated_bundle_is_read_or_refused_with_a_format_exception_never_anything_else()
    {
        var seed = Fuzzing.Seed(20261207);
        var random = new Random(seed);
        var valid = JsonNode.Parse(Body)!;
        var failures = new List<string>();
        var (read, refused) = (0, 0);
        foreach (var (mutant, body) in MutatedBundleBodies.Generate(random, valid, Fuzzing.Inputs(4000)).TakeWhile(_ => failures.Count < 10))
        {
            try
            {
                AgentBundle.From(Verified(body), [Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e")]);
                read++;
            }
            catch (FormatException)
            {
                refused++;
            }
            catch (Exception e)
            {
                failures.Add($"{e.GetType().Name}: {e.Message} ← {mutant}");
            }
        }

        Assert.True(failures.Count == 0, $"{Fuzzing.Describe(seed)}: {failures.Count} bundles threw what the data plane does not catch:\n{string.Join('\n', failures)}");
        Assert.True(read > 0 && refused > 0, $"{Fuzzing.Describe(seed)}: {read} read, {refused} refused; the mutations should give both");
    }

    private static VerifiedBundle Verified(JsonObject body) =>
        new(new BundleHeader("5b0c2a4e-8f7e-4a57-9d3e-0c1f2b3a4d5e", "agent", 3, DateTimeOffset.UnixEpoch, null), body, Encoding.UTF8.GetBytes(body.ToJsonString()));
}
