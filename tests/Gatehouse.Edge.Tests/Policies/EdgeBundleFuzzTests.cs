using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Gatehouse.Edge.Operations;
using Gatehouse.Edge.Policies;
using Gatehouse.Testing;
using Gatehouse.Testing.Json;

namespace Gatehouse.Edge.Tests.Policies;

/// <summary>
/// Whatever a verified bundle holds, the edge either puts it in force or refuses it and keeps the policy it had
/// (<see cref="EdgePolicy.Apply"/>), never throws: bundles are signed by the portal, but a portal of another release,
/// or a bug in one, writes what this edge does not expect.
/// </summary>
[Trait(Fuzzing.Trait, Fuzzing.Category)]
public sealed class EdgeBundleFuzzTests
{
    [Fact]
    public void A_mutated_bundle_is_put_in_force_or_refused_and_the_previous_policy_stays()
    {
        var seed = Fuzzing.Seed(20261208);
        var random = new Random(seed);
        var valid = Body();
        using var metrics = new EdgeMetrics();
        var policy = new EdgePolicy(metrics);
        Assert.Equal(EdgePolicyOutcome.Applied, policy.Apply(1, valid.DeepClone().AsObject()));
        var failures = new List<string>();
        var (applied, refused) = (0, 0);
        var version = 1L;
        foreach (var (mutant, body) in MutatedBundleBodies.Generate(random, valid, Fuzzing.Inputs(3000)).TakeWhile(_ => failures.Count < 10))
        {
            var before = policy.State!.Version;
            try
            {
                switch (policy.Apply(++version, body))
                {
                    case EdgePolicyOutcome.Applied when policy.State.Version == version:
                        applied++;
                        break;
                    case EdgePolicyOutcome.Refused when policy.State.Version == before && policy.LastError is not null:
                        refused++;
                        break;
                    case var outcome:
                        failures.Add($"{outcome} left version {policy.State.Version} in force ← {mutant}");
                        break;
                }
            }
            catch (Exception e)
            {
                failures.Add($"{e.GetType().Name}: {e.Message} ← {mutant}");
            }
        }

        Assert.True(failures.Count == 0, $"{Fuzzing.Describe(seed)}: {failures.Count} bundles were not applied or refused cleanly:\n{string.Join('\n', failures)}");
        Assert.True(applied > 0 && refused > 0, $"{Fuzzing.Describe(seed)}: {applied} applied, {refused} refused; the mutations should give both");
    }

    /// <summary>Every part of an edge bundle the edge reads, shaped as the portal's contributors write it.</summary>
    private static JsonObject Body()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ca = new CertificateRequest("CN=acme tenant CA", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var body = JsonNode.Parse("""
            {
              "tenant": { "id": "5b0c2a4e-8f7e-4a57-9d3e-0c1f2b3a4d5e", "name": "acme" },
              "revoked": { "devices": [ { "id": "11111111-2222-4333-8444-555555555555" } ], "edges": [], "connectors": [] },
              "proxyCredentials": [ { "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "userId": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "username": "alice@acme.example" } ],
              "devices": [ { "id": "0195f000-0000-7000-8000-000000000001", "userId": "7c9e6679-7425-40de-944b-e07fc1f90ae7" } ],
              "users": [
                { "id": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "email": "alice@acme.example", "disabled": false, "groups": [ "finance" ] },
                { "id": "9b2f7c1a-1111-4e3b-8a7a-2c3d4e5f6a7b", "email": "mallory@acme.example", "disabled": true, "groups": [] }
              ],
              "policy": [
                { "name": "block-gambling", "action": "block", "criteria": { "categories": [ "gambling" ] }, "inspect": [] },
                { "name": "finance-crm", "action": "allow", "criteria": { "groups": [ "finance" ], "appSegments": [ "crm" ], "schedule": { "days": [ "mon", "fri" ], "from": "08:00", "to": "18:00", "timeZone": "Europe/Paris" } }, "inspect": [ "log-full-url" ] },
                { "name": "caution-new", "action": "caution", "criteria": { "domains": [ "*.example.com" ], "cidrs": [ "10.0.0.0/8" ], "ports": [ "443", "8000-8080" ], "protocols": [ "https" ], "networks": [ "untrusted" ], "posture": [ "disk-encrypted" ], "users": [ "alice@acme.example" ] }, "inspect": [ "tls-inspect" ] }
              ],
              "accessPolicy": [ { "name": "finance-crm", "action": "allow", "criteria": { "groups": [ "finance" ], "appSegments": [ "crm" ] } } ],
              "categories": { "gambling": [ "bet.example", "casino.example" ], "news": [ "news.example" ] },
              "appSegments": [ { "name": "crm", "domains": [ "crm.corp" ], "cidrs": [ "10.20.0.0/16" ], "ports": [ "443" ], "segmentGroup": null, "connectorGroupIds": [ "0f8fad5b-d9cb-469f-a165-70867728950e" ] } ],
              "connectors": [ { "id": "0195f000-0000-7000-8000-0000000000ff", "name": "dc-1", "connectorGroupId": "0f8fad5b-d9cb-469f-a165-70867728950e" } ],
              "edges": []
            }
            """)!.AsObject();
        body["ca"] = ca.ExportCertificatePem();
        return body;
    }
}
