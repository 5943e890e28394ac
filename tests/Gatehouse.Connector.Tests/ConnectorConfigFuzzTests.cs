using System.Text.Json.Nodes;
using Gatehouse.Connector.Config;
using Gatehouse.Policy.Sources;
using Gatehouse.Testing;
using Gatehouse.Testing.Json;

namespace Gatehouse.Connector.Tests;

/// <summary>
/// A verified bundle the connector cannot use must be refused with a <see cref="PolicyFormatException"/>, what the
/// connector catches to keep its previous config (<c>ConnectorHost</c>); bundles are signed by the portal, but a portal
/// of another release, or a bug in one, writes what this connector does not expect.
/// </summary>
[Trait(Fuzzing.Trait, Fuzzing.Category)]
public sealed class ConnectorConfigFuzzTests
{
    private const string Me = "0195f000-0000-7000-8000-000000000001";

    private const string Body = """
        {
          "edges": [{"id": "e1", "name": "edge-1", "address": "edge1.example:7444"}, {"id": "e2", "name": "edge-2", "address": "10.0.0.2:7444"}],
          "connectors": [{"id": "0195f000-0000-7000-8000-000000000001", "name": "c1", "connectorGroupId": "g1"}, {"id": "x", "name": "c2", "connectorGroupId": "g2"}],
          "appSegments": [
            {"name": "wiki", "domains": ["wiki.corp.internal", "*.wiki.corp.internal"], "cidrs": ["10.1.0.0/16"], "ports": ["443", "8000-8100"], "connectorGroupIds": ["g1"],
             "serverGroups": [{"name": "wiki-servers", "servers": ["10.1.0.5", "wiki-b.corp.internal"], "healthCheck": "http", "healthPath": "/healthz"}]},
            {"name": "db", "domains": [], "cidrs": ["10.9.0.0/16"], "ports": ["5432"], "connectorGroupIds": ["g1"], "serverGroups": [{"name": "pg", "servers": ["10.9.0.5"], "healthCheck": "tcp", "healthPath": null}]},
            {"name": "hr", "domains": ["hr.corp.internal"], "cidrs": [], "ports": ["443"], "connectorGroupIds": ["g2"]}
          ]
        }
        """;

    [Fact]
    public void A_mutated_bundle_is_read_or_refused_with_its_path_never_anything_else()
    {
        var seed = Fuzzing.Seed(20261209);
        var random = new Random(seed);
        var valid = JsonNode.Parse(Body)!;
        Assert.Equal(["wiki", "db"], ConnectorConfig.FromBundleBody(valid.DeepClone().AsObject(), Me).SegmentNames);
        var failures = new List<string>();
        var (read, refused) = (0, 0);
        foreach (var (mutant, body) in MutatedBundleBodies.Generate(random, valid, Fuzzing.Inputs(4000)).TakeWhile(_ => failures.Count < 10))
        {
            try
            {
                ConnectorConfig.FromBundleBody(body, Me);
                read++;
            }
            catch (PolicyFormatException)
            {
                refused++;
            }
            catch (Exception e)
            {
                failures.Add($"{e.GetType().Name}: {e.Message} ← {mutant}");
            }
        }

        Assert.True(failures.Count == 0, $"{Fuzzing.Describe(seed)}: {failures.Count} bundles threw what the connector does not catch:\n{string.Join('\n', failures)}");
        Assert.True(read > 0 && refused > 0, $"{Fuzzing.Describe(seed)}: {read} read, {refused} refused; the mutations should give both");
    }
}
