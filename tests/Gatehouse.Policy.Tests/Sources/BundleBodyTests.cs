using System.Text.Json.Nodes;
using Gatehouse.Policy.Compilation;
using Gatehouse.Policy.Decisions;
using Gatehouse.Policy.Sources;

namespace Gatehouse.Policy.Tests.Sources;

public sealed class BundleBodyTests
{
    // Shaped exactly as the portal's edge contributors write it (PolicyBundleContributor,
    // CategoryBundleContributor, AppSegmentBundleContributor, UserBundleContributor): web-cased
    // JSON, nulls left out of criteria, other keys of the bundle alongside.
    private const string EdgeBody = """
        {
          "tenant": { "id": "5b0c2a4e-8f7e-4a57-9d3e-0c1f2b3a4d5e", "name": "acme" },
          "policy": [
            { "name": "block-gambling", "action": "block", "criteria": { "categories": [ "gambling" ] }, "inspect": [] },
            { "name": "finance-crm", "action": "allow", "criteria": { "groups": [ "finance" ], "appSegments": [ "crm" ], "schedule": { "days": [ "mon", "tue", "wed", "thu", "fri" ], "from": "08:00", "to": "18:00", "timeZone": "Europe/Paris" } }, "inspect": [ "log-full-url", "dlp" ] },
            { "name": "block-crm", "action": "block", "criteria": { "appSegments": [ "crm" ] }, "inspect": [] },
            { "name": "caution-new", "action": "caution", "criteria": { "domains": [ "*.example.com" ], "ports": [ "443", "8000-8080" ], "protocols": [ "https" ] }, "inspect": [ "tls-inspect" ] }
          ],
          "categories": {
            "gambling": [ "bet.example", "casino.example" ],
            "news": [ "news.example" ]
          },
          "appSegments": [
            { "name": "crm", "domains": [ "crm.corp" ], "cidrs": [ "10.20.0.0/16" ], "ports": [ "443" ], "segmentGroup": null, "connectorGroupIds": [ "0f8fad5b-d9cb-469f-a165-70867728950e" ] }
          ],
          "users": [
            { "id": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "email": "alice@acme.example", "disabled": false, "groups": [ "finance" ] },
            { "id": "9b2f7c1a-1111-4e3b-8a7a-2c3d4e5f6a7b", "email": "mallory@acme.example", "disabled": true, "groups": [] }
          ],
          "edges": []
        }
        """;

    [Fact]
    public void Reads_the_edge_bundle_body_the_portal_writes()
    {
        var source = PolicySource.FromBundleBody(JsonNode.Parse(EdgeBody)!.AsObject());

        Assert.Equal(["block-gambling", "finance-crm", "block-crm", "caution-new"], source.Rules.Select(r => r.Name));
        Assert.Equal("Europe/Paris", source.Rules[1].Criteria.Schedule!.TimeZone);
        Assert.Equal(["log-full-url", "dlp"], source.Rules[1].Inspect!);
        Assert.Equal(["bet.example", "casino.example"], source.Categories["gambling"]);
        Assert.Equal(["10.20.0.0/16"], Assert.Single(source.AppSegments).Cidrs);
        Assert.True(source.Users[1].Disabled);
    }

    [Fact]
    public void Policy_from_the_bundle_decides_flows()
    {
        var policy = PolicyCompiler.Compile(PolicySource.FromBundleBody(JsonNode.Parse(EdgeBody)!.AsObject())).Policy!;
        var monday10Paris = new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
        var alice = new FlowContext { UserId = "7c9e6679-7425-40de-944b-e07fc1f90ae7", Time = monday10Paris, Port = 443, Protocol = FlowProtocol.Https };

        Assert.Equal("block-gambling", policy.Decide(alice with { Host = "www.casino.example" }).RuleName);
        var crm = policy.Decide(alice with { Host = "crm.corp" });
        Assert.Equal(("finance-crm", InspectFlags.LogFullUrl | InspectFlags.Dlp), (crm.RuleName, crm.Inspect));
        Assert.Equal("block-crm", policy.Decide(alice with { Host = "crm.corp", Time = monday10Paris.AddHours(10) }).RuleName);
        Assert.Equal(PolicyAction.Caution, policy.Decide(alice with { Host = "new.example.com" }).Action);
        Assert.Equal(Decision.UserDisabledIndex, policy.Decide(alice with { UserId = "9b2f7c1a-1111-4e3b-8a7a-2c3d4e5f6a7b" }).RuleIndex);
    }

    [Fact]
    public void Missing_keys_read_as_empty()
    {
        var source = PolicySource.FromBundleBody([]);

        Assert.Empty(source.Rules);
        Assert.Empty(source.Categories);
    }

    [Theory]
    [InlineData("""{ "policy": [ { "name": "x", "action": "allow", "criteria": { "domain": [ "a.example" ] } } ] }""", "policy[0].criteria.domain", "criterion")]
    [InlineData("""{ "accessPolicy": [ { "name": "x", "action": "allow", "criteria": { "appSegments": [ "crm" ], "countries": [ "CH" ] } } ] }""", "accessPolicy[0].criteria.countries", "criterion")]
    [InlineData("""{ "policy": [ { "name": "x", "action": "allow", "enable": false } ] }""", "policy[0].enable", "rule field")]
    public void A_field_or_criterion_this_reader_does_not_know_is_refused_with_its_path(string json, string path, string what)
    {
        var body = JsonNode.Parse(json)!.AsObject();

        var error = Assert.Throws<PolicyFormatException>(() => body.ContainsKey("accessPolicy") ? PolicySource.AccessFromBundleBody(body) : PolicySource.FromBundleBody(body));

        Assert.Equal(path, error.Path);
        Assert.StartsWith($"is a {what} this edge does not know", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_schedule_field_this_reader_does_not_know_is_refused_with_its_path()
    {
        var body = JsonNode.Parse("""{ "policy": [ { "name": "x", "action": "allow", "criteria": { "schedule": { "days": [ "mon" ], "from": "08:00", "to": "18:00", "zone": "Europe/Paris" } } } ] }""")!.AsObject();

        var error = Assert.Throws<PolicyFormatException>(() => PolicySource.FromBundleBody(body));

        Assert.Equal("policy[0].criteria.schedule.zone", error.Path);
        Assert.StartsWith("is a criteria field this edge does not know", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_body_names_the_path()
    {
        var body = JsonNode.Parse("""{ "policy": [ { "name": "x", "action": 3 } ] }""")!.AsObject();

        var error = Assert.Throws<PolicyFormatException>(() => PolicySource.FromBundleBody(body));

        Assert.Equal("policy[0].action", error.Path);
    }
}
