using System.Net.Http.Json;
using System.Text.Json;
using Gatehouse.Cli;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Wire.Api;

namespace Gatehouse.Portal.Tests.Cli;

/// <summary>The <c>gatehouse</c> commands against a real portal, as an admin runs them.</summary>
public sealed class CliAgainstPortalTests : IAsyncLifetime
{
    private PortalServer _portal = null!;
    private string _configPath = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalServer.StartAsync();
        _configPath = Path.Combine(_portal.DataDirectory, "cli.json");
        var login = await RunWithInputAsync(PortalServer.OwnerPassword + "\n", "login", "--portal", _portal.BaseAddress.ToString(), "--ca-file", CaFile, "--email", PortalServer.OwnerEmail, "--password-stdin");
        Assert.True(login.Code == 0, login.Stderr);
    }

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    private string CaFile => Path.Combine(_portal.DataDirectory, "tls.crt");

    private sealed record Run(int Code, string Stdout, string Stderr);

    private async Task<Run> RunWithInputAsync(string stdin, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var environment = new CliEnvironment(stdout, stderr, new StringReader(stdin), name => name == "GATEHOUSE_CLI_CONFIG" ? _configPath : null, interactive: false, colour: false);
        var code = await GatehouseCommand.RunAsync(args, environment, TimeProvider.System, CancellationToken.None);
        return new Run(code, stdout.ToString(), stderr.ToString());
    }

    private Task<Run> RunAsync(params string[] args) => RunWithInputAsync("", args);

    [Fact]
    public async Task Whoami_shows_the_signed_in_owner()
    {
        var run = await RunAsync("whoami", "--json");
        Assert.Equal(0, run.Code);
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal(PortalServer.OwnerEmail, json.RootElement.GetProperty("admin").GetProperty("email").GetString());
    }

    [Fact]
    public async Task Users_and_groups_are_created_listed_updated_and_deleted()
    {
        Assert.Equal(0, (await RunAsync("group", "create", "--name", "engineering")).Code);
        Assert.Equal(0, (await RunAsync("user", "create", "--email", "alice@example.com", "--name", "Alice", "--group", "engineering")).Code);

        var list = await RunAsync("user", "list", "--json");
        Assert.Equal(0, list.Code);
        using (var users = JsonDocument.Parse(list.Stdout))
        {
            var alice = users.RootElement.EnumerateArray().Single();
            Assert.Equal("alice@example.com", alice.GetProperty("email").GetString());
            Assert.Equal(1, alice.GetProperty("groupIds").GetArrayLength());
        }

        Assert.Equal(0, (await RunAsync("user", "update", "alice@example.com", "--disable")).Code);
        Assert.Contains("yes", (await RunAsync("user", "show", "alice@example.com")).Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await RunAsync("user", "delete", "alice@example.com")).Code);
        Assert.Equal("[]", (await RunAsync("user", "list", "--json")).Stdout.Trim());
    }

    [Fact]
    public async Task A_policy_the_portal_took_imports_again_from_its_own_export_and_a_too_large_one_says_so()
    {
        // Stored from compact JSON under 1 MiB, 45,000 domains export as more YAML than that, over the 1 MiB every body had: the
        // re-import got 413, and the CLI called that "the portal did not answer properly" (exit 6).
        var rule = new { name = "many", action = "block", criteria = new { domains = Enumerable.Range(0, 45_000).Select(i => $"d{i}.example.com").ToArray() } };
        using var admin = await _portal.SignInAsync();
        var put = await admin.PutAsJsonAsync("policy", new { rules = new[] { rule } }, PortalServer.Json);
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        var exported = await RunAsync("policy", "export", "--format", "yaml");
        Assert.True(exported.Code == 0, exported.Stderr);
        var file = Path.Combine(_portal.DataDirectory, "exported.yaml");
        await File.WriteAllTextAsync(file, exported.Stdout);
        Assert.True(new FileInfo(file).Length > 1024 * 1024);

        var again = await RunAsync("policy", "import", file);
        Assert.True(again.Code == 0, again.Stderr);

        var huge = Path.Combine(_portal.DataDirectory, "huge.yaml");
        await File.WriteAllTextAsync(huge, "rules:\n  - name: huge\n    action: block\n    criteria:\n      domains: [" + string.Join(", ", Enumerable.Range(0, 500_000).Select(i => $"d{i}.example.com")) + "]\n");
        var refused = await RunAsync("policy", "import", huge);
        Assert.Equal(7, refused.Code);
        Assert.StartsWith("error: The request body is larger than the portal accepts", refused.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Policy_explain_prints_the_deciding_rule_and_why_earlier_rules_did_not_match()
    {
        Assert.Equal(0, (await RunAsync("category", "add", "gambling", "casino.example")).Code);
        var file = Path.Combine(_portal.DataDirectory, "policy.yaml");
        await File.WriteAllTextAsync(file, """
            rules:
              - name: allow-intranet
                action: allow
                criteria: { domains: [intranet.example] }
              - name: block-gambling
                action: block
                criteria: { categories: [gambling] }
            """);
        var import = await RunAsync("policy", "import", file);
        Assert.True(import.Code == 0, import.Stderr);

        var run = await RunAsync("policy", "explain", "--host", "www.casino.example", "--port", "443", "--protocol", "https");
        Assert.True(run.Code == 0, run.Stderr);
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("block by rule 1 'block-gambling' (category gambling)", lines[0]);
        Assert.Equal("  #0 allow-intranet: no — domain www.casino.example is not in [intranet.example]", lines[1]);
        Assert.Equal("  #1 block-gambling: yes", lines[2]);
        Assert.Equal(3, lines.Length);

        var json = await RunAsync("policy", "explain", "--host", "intranet.example", "--json");
        Assert.True(json.Code == 0, json.Stderr);
        using var answer = JsonDocument.Parse(json.Stdout);
        Assert.Equal("allow", answer.RootElement.GetProperty("action").GetString());
        Assert.Equal(0, answer.RootElement.GetProperty("ruleIndex").GetInt32());

        var bad = await RunAsync("policy", "explain", "--port", "70000");
        Assert.NotEqual(0, bad.Code);
        Assert.Contains("(field: port)", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_credentials_are_made_listed_and_deleted_for_a_user_named_by_email()
    {
        Assert.Equal(0, (await RunAsync("user", "create", "--email", "ana@example.com")).Code);
        var created = await RunAsync("user", "proxy-credential", "create", "ana@example.com", "--description", "laptop");
        Assert.True(created.Code == 0, created.Stderr);
        var password = created.Stdout.Trim();
        Assert.StartsWith("ghx_", password, StringComparison.Ordinal);
        Assert.Contains("user name ana@example.com", created.Stderr, StringComparison.Ordinal);

        var list = await RunAsync("user", "proxy-credential", "list", "ana@example.com", "--json");
        Assert.True(list.Code == 0, list.Stderr);
        Assert.DoesNotContain(password, list.Stdout, StringComparison.Ordinal);
        string id;
        using (var credentials = JsonDocument.Parse(list.Stdout))
        {
            var credential = credentials.RootElement.EnumerateArray().Single();
            Assert.Equal(("ana@example.com", "laptop"), (credential.GetProperty("username").GetString(), credential.GetProperty("description").GetString()));
            id = credential.GetProperty("id").GetString()!;
        }

        Assert.Equal(0, (await RunAsync("user", "proxy-credential", "delete", "ana@example.com", id)).Code);
        Assert.Equal("[]", (await RunAsync("user", "proxy-credential", "list", "ana@example.com", "--json")).Stdout.Trim());
    }

    [Fact]
    public async Task Logs_query_shows_what_an_edge_shipped_newest_first()
    {
        var key = await RunAsync("provisioning-key", "create", "--name", "edge1", "--kind", "edge");
        Assert.True(key.Code == 0, key.Stderr);
        using var edge = await Enrollment.Enrollee.EnrollEdgeAsync(_portal, key.Stdout.Trim());
        var now = DateTimeOffset.UtcNow;
        await Logs.EdgeLogs.PostAcceptedAsync(_portal, edge,
            Logs.EdgeLogs.Record(edge, now.AddMinutes(-90), "old.example.com"),
            Logs.EdgeLogs.Record(edge, now.AddMinutes(-5), "casino.example", "block") with { UserEmail = "ana@example.com" },
            Logs.EdgeLogs.Record(edge, now.AddMinutes(-1), "www.example.com") with { UserEmail = "bob@example.com" });

        var table = await RunAsync("logs", "query", "--since", "1h");
        Assert.True(table.Code == 0, table.Stderr);
        var lines = table.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("TIME ", lines[0], StringComparison.Ordinal);
        Assert.Contains("bob@example.com  allow   www.example.com:443", lines[1], StringComparison.Ordinal);
        Assert.Contains("ana@example.com  block   casino.example:443   CONNECT  block-gambling  1200/54000", lines[2], StringComparison.Ordinal);

        var ana = await RunAsync("logs", "query", "--user", "ANA@example.com", "--json");
        Assert.True(ana.Code == 0, ana.Stderr);
        using (var record = JsonDocument.Parse(ana.Stdout.Trim()))
        {
            Assert.Equal("casino.example", record.RootElement.GetProperty("record").GetProperty("host").GetString());
        }

        var below = await RunAsync("logs", "query", "--host", ".example.com", "--json");
        Assert.Equal(["www.example.com", "old.example.com"], below.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("record").GetProperty("host").GetString()));
    }

    [Fact]
    public async Task Token_created_by_the_cli_authenticates_a_second_login()
    {
        var created = await RunAsync("token", "create", "--name", "automation", "--scope", "read");
        Assert.Equal(0, created.Code);
        var token = created.Stdout.Trim();
        Assert.StartsWith("gh_", token, StringComparison.Ordinal);

        var login = await RunAsync("login", "--portal", _portal.BaseAddress.ToString(), "--ca-file", CaFile, "--token", token);
        Assert.Equal(0, login.Code);
        Assert.Equal(0, (await RunAsync("user", "list")).Code);
        var refused = await RunAsync("group", "create", "--name", "read-only-cannot");
        Assert.Equal(3, refused.Code);
        Assert.StartsWith("error:", refused.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Audit_lists_what_the_cli_changed()
    {
        await RunAsync("group", "create", "--name", "audited");
        var run = await RunAsync("audit", "list", "--action", "group.create", "--json");
        Assert.Equal(0, run.Code);
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Contains(json.RootElement.EnumerateArray(), e => e.GetProperty("after").GetString()!.Contains("audited", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Exit_codes_tell_not_found_conflict_and_bad_input_apart()
    {
        Assert.Equal(4, (await RunAsync("user", "show", "nobody@example.com")).Code);
        Assert.Equal(0, (await RunAsync("group", "create", "--name", "twice")).Code);
        Assert.Equal(5, (await RunAsync("group", "create", "--name", "twice")).Code);
        var bad = await RunAsync("user", "create", "--email", "not-an-email");
        Assert.Equal(7, bad.Code);
        Assert.Contains("email", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_password_exits_3_and_a_dead_portal_exits_6()
    {
        var wrong = await RunWithInputAsync("not the password\n", "login", "--portal", _portal.BaseAddress.ToString(), "--ca-file", CaFile, "--email", PortalServer.OwnerEmail, "--password-stdin");
        Assert.Equal(3, wrong.Code);
        var unreachable = await RunAsync("whoami", "--portal", $"https://127.0.0.1:{Gatehouse.Testing.FreePort.GetLoopbackTcpPort()}/");
        Assert.Equal(6, unreachable.Code);
    }

    [Fact]
    public async Task Tenant_create_prints_only_the_owners_one_time_password()
    {
        var run = await RunAsync("tenant", "create", "--name", "acme", "--owner-email", "it@acme.example");
        Assert.Equal(0, run.Code);
        Assert.StartsWith("otp_", run.Stdout.Trim(), StringComparison.Ordinal);
        Assert.Single(run.Stdout.Trim().Split('\n'));
    }

    [Fact]
    public async Task Policy_imported_from_yaml_exports_again_and_a_bad_file_changes_nothing()
    {
        Assert.Equal(0, (await RunAsync("group", "create", "--name", "finance")).Code);
        var file = Path.Combine(_portal.DataDirectory, "policy.yaml");
        await File.WriteAllTextAsync(file, """
            rules:
              - name: block-gambling-for-finance
                action: block
                criteria:
                  groups: [finance]
                  domains: ["*.casino.example", bet.example]
                  ports: ["443", "8000-8080"]
              - name: caution-new-sites
                action: caution
                criteria:
                  cidrs: [203.0.113.0/24]
            """);
        var imported = await RunAsync("policy", "import", file);
        Assert.True(imported.Code == 0, imported.Stderr);

        var exported = await RunAsync("policy", "export", "--format", "json");
        Assert.Equal(0, exported.Code);
        using (var policy = JsonDocument.Parse(exported.Stdout))
        {
            var rules = policy.RootElement.GetProperty("rules");
            Assert.Equal(2, rules.GetArrayLength());
            Assert.Equal("block-gambling-for-finance", rules[0].GetProperty("name").GetString());
        }

        await File.WriteAllTextAsync(file, "rules:\n  - name: broken\n    action: allow\n    criteria:\n      cidrs: [10.0.0.300/8]\n");
        var refused = await RunAsync("policy", "import", file);
        Assert.Equal(7, refused.Code);
        Assert.Contains("rules[0].criteria.cidrs[0]", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(exported.Stdout, (await RunAsync("policy", "export", "--format", "json")).Stdout);
    }

    [Fact]
    public async Task Categories_import_from_a_ut1_style_folder()
    {
        var root = Directory.CreateDirectory(Path.Combine(_portal.DataDirectory, "blacklists")).FullName;
        Directory.CreateDirectory(Path.Combine(root, "gambling"));
        await File.WriteAllLinesAsync(Path.Combine(root, "gambling", "domains"), ["# UT1 gambling", "casino.example", "bet.example", "192.0.2.7", "", "poker.example"]);
        Directory.CreateDirectory(Path.Combine(root, "adult"));
        await File.WriteAllLinesAsync(Path.Combine(root, "adult", "domains"), ["adult.example"]);

        var run = await RunAsync("category", "import", "--dir", root);
        Assert.True(run.Code == 0, run.Stderr);
        var list = await RunAsync("category", "list", "--json");
        using var categories = JsonDocument.Parse(list.Stdout);
        var gambling = categories.RootElement.EnumerateArray().Single(c => c.GetProperty("name").GetString() == "gambling");
        Assert.Equal(3, gambling.GetProperty("domainCount").GetInt64());
        Assert.Equal("imported", gambling.GetProperty("source").GetString());
    }

    [Fact]
    public async Task Devices_enrolled_with_a_cli_token_are_listed_and_revoked()
    {
        var token = (await RunAsync("enrollment-token", "create", "--uses", "1", "--hours", "1")).Stdout.Trim();
        using var device = await Enrollment.Enrollee.EnrollDeviceAsync(_portal, token);

        var list = await RunAsync("device", "list", "--json");
        using (var devices = JsonDocument.Parse(list.Stdout))
        {
            Assert.Equal(device.Response.SubjectId, devices.RootElement.EnumerateArray().Single().GetProperty("id").GetGuid());
        }

        Assert.Equal(0, (await RunAsync("device", "revoke", device.Response.SubjectId.ToString())).Code);
        Assert.Contains("revoked", (await RunAsync("device", "list", "--status", "revoked")).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Edges_and_connectors_are_revoked_from_the_cli_and_a_revoked_edge_cannot_renew()
    {
        var edgeKey = await RunAsync("provisioning-key", "create", "--name", "edge1", "--kind", "edge");
        Assert.True(edgeKey.Code == 0, edgeKey.Stderr);
        using var edge = await Enrollment.Enrollee.EnrollEdgeAsync(_portal, edgeKey.Stdout.Trim());
        Assert.Equal(0, (await RunAsync("connector-group", "create", "--name", "dc1")).Code);
        var connectorKey = await RunAsync("provisioning-key", "create", "--name", "c1", "--kind", "connector", "--connector-group", "dc1");
        Assert.True(connectorKey.Code == 0, connectorKey.Stderr);
        using var connector = await Enrollment.Enrollee.EnrollConnectorAsync(_portal, connectorKey.Stdout.Trim());

        var revokedEdge = await RunAsync("edge", "revoke", edge.Response.SubjectId.ToString());
        var revokedConnector = await RunAsync("connector", "revoke", connector.Response.SubjectId.ToString(), "--json");

        Assert.True(revokedEdge.Code == 0, revokedEdge.Stderr);
        Assert.Equal($"edge edge1 ({edge.Response.SubjectId}) revoked", revokedEdge.Stdout.Trim());
        Assert.True(revokedConnector.Code == 0, revokedConnector.Stderr);
        Assert.Equal("revoked", JsonDocument.Parse(revokedConnector.Stdout).RootElement.GetProperty("status").GetString());
        Assert.Contains("revoked", (await RunAsync("edge", "list")).Stdout, StringComparison.Ordinal);
        using var renewal = await edge.RenewAsync(_portal);
        Assert.False(renewal.IsSuccessStatusCode, "a revoked edge renewed its certificate");
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("edge", "revoke", Guid.NewGuid().ToString())).Code);
    }

    [Fact]
    public async Task Content_is_published_and_rolled_out_and_a_file_with_one_field_too_many_is_refused_with_the_loaders_reason()
    {
        var good = Path.Combine(_portal.DataDirectory, "bypass-1.json");
        var bad = Path.Combine(_portal.DataDirectory, "bypass-2.json");
        await File.WriteAllTextAsync(good, """{"channel":"bypass","schemaVersion":1,"version":"1","fields":["kind","value","ports","note"],"records":[["domain","*.zoom.us","8801","Zoom media"]]}""");
        await File.WriteAllTextAsync(bad, """{"channel":"bypass","schemaVersion":1,"version":"2","fields":["kind","value","ports","note","extra"],"records":[["domain","*.zoom.us","8801","Zoom media","21st"]]}""");

        var published = await RunAsync("content", "publish", "bypass", good);
        var again = await RunAsync("content", "publish", "bypass", good);
        var refused = await RunAsync("content", "publish", "bypass", bad);
        var noChannel = await RunAsync("content", "publish", "", good);
        var pathChannel = await RunAsync("content", "publish", "bypass/x", good);
        var folder = await RunAsync("content", "publish", "bypass", _portal.DataDirectory);
        var pilots = JsonDocument.Parse((await RunAsync("group", "create", "--name", "pilots", "--json")).Stdout).RootElement.GetProperty("id").GetString()!;
        var created = await RunAsync("rollout", "create", "--channel", "bypass", "--version", "1", "--plan", "slow-roll", "--group", pilots, "--json");
        var id = JsonDocument.Parse(created.Stdout).RootElement.GetProperty("id").GetString()!;
        var halted = await RunAsync("rollout", "halt", id, "--reason", "testing the brakes");

        Assert.True(published.Code == 0, published.Stderr);
        Assert.Contains("bypass 1 published (1 records", published.Stdout, StringComparison.Ordinal);
        Assert.True(again.Code == 0, again.Stderr);
        Assert.StartsWith("bypass 1 unchanged: these exact bytes are published already as bypass 1 (1 records", again.Stdout, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.BadInput, refused.Code);
        Assert.EndsWith("declares 5 fields; this build reads 4 (kind, value, ports, note) (field: fields)\n", refused.Stderr, StringComparison.Ordinal);

        // These went to the portal and came back as "This route does not take that method." (exit 1), or a file error.
        Assert.Equal((ExitCodes.Usage, ExitCodes.Usage, ExitCodes.Usage), (noChannel.Code, pathChannel.Code, folder.Code));
        Assert.Contains("CHANNEL is a content channel's name, such as bypass", noChannel.Stderr, StringComparison.Ordinal);
        Assert.Contains("is a folder", folder.Stderr, StringComparison.Ordinal);
        Assert.Contains("\"1\"", (await RunAsync("content", "list", "--json")).Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("\"2\"", (await RunAsync("content", "list", "--json")).Stdout, StringComparison.Ordinal);
        Assert.Equal(0, created.Code);
        Assert.Equal(0, halted.Code);
        Assert.Contains("halted: testing the brakes", halted.Stdout, StringComparison.Ordinal);
        Assert.Contains("plan slow-roll, for groups pilots", halted.Stdout, StringComparison.Ordinal); // by name, given by id
        Assert.Contains("halted", (await RunAsync("rollout", "list")).Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dr_settings_are_set_from_key_and_policy_files_the_dr_bundle_is_exported_as_signed_and_the_settings_deleted()
    {
        using var admin = await _portal.SignInAsync();
        using var edge = await Enrollment.Enrollee.EnrollEdgeAsync(_portal, await Enrollment.Enrollee.CreateProvisioningKeyAsync(admin, ProvisioningKinds.Edge), "dr.corp.example:7444");
        var key = Path.Combine(_portal.DataDirectory, "dr.pem");
        var policy = Path.Combine(_portal.DataDirectory, "dr-policy.json");
        var bundle = Path.Combine(_portal.DataDirectory, "dr-bundle.json");
        await File.WriteAllTextAsync(policy, """{"rules":[{"name":"payroll","action":"allow","criteria":{"domains":["*.payroll.example"]}}]}""");

        Assert.Equal(0, (await RunAsync("dr", "key", "create", key)).Code);
        Assert.Equal(0, (await RunAsync("group", "create", "--name", "dr-drill")).Code);
        var unknownEdge = await RunAsync("dr", "set", "--record-name", "_gatehouse-dr.corp.example", "--public-key", key + ".pub", "--edge", "no-such-edge", "--policy", policy);
        var set = await RunAsync("dr", "set", "--record-name", "_gatehouse-dr.corp.example", "--public-key", key + ".pub", "--edge", "EDGE1", "--drill-group", "dr-drill", "--policy", policy);
        var shown = await RunAsync("dr", "show");
        var exported = await RunAsync("dr", "export", "--output", bundle);
        var badPolicy = Path.Combine(_portal.DataDirectory, "bad.json");
        await File.WriteAllTextAsync(badPolicy, "rules: [yaml is not taken here]");
        var refused = await RunAsync("dr", "set", "--record-name", "_gatehouse-dr.corp.example", "--public-key", key + ".pub", "--edge", edge.Response.SubjectId.ToString(), "--policy", badPolicy);
        var privateKey = await RunAsync("dr", "set", "--record-name", "_gatehouse-dr.corp.example", "--public-key", key, "--edge", "EDGE1", "--policy", policy);
        using var privateKeyBody = await admin.PutAsJsonAsync("dr", new PutDrSettingsRequest("_gatehouse-dr.corp.example", await File.ReadAllTextAsync(key), [edge.Response.SubjectId], null, [], null, null), PortalServer.Json);

        // The DR private key never leaves its offline machine: the CLI sends nothing, and the portal keeps nothing.
        Assert.Equal(ExitCodes.BadInput, privateKey.Code);
        Assert.Contains("holds the DR private key, which never leaves your offline machine; give its public half, dr.pem.pub", privateKey.Stderr, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, privateKeyBody.StatusCode);
        Assert.Contains("publicKeyPem holds a private key", await privateKeyBody.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(ExitCodes.NotFound, unknownEdge.Code);
        Assert.Contains("no edge named no-such-edge", unknownEdge.Stderr, StringComparison.Ordinal);
        Assert.True(set.Code == 0, set.Stderr);
        Assert.Contains("1 rule, then block for everything else", shown.Stdout, StringComparison.Ordinal);
        Assert.Contains($"DR edges: edge1 ({edge.Response.SubjectId})", shown.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"drill:    dr-drill \([0-9a-f-]{36}\)", shown.Stdout);
        Assert.Equal(shown.Stdout, set.Stdout);
        Assert.True(exported.Code == 0, exported.Stderr);
        Assert.True(OperatingSystem.IsWindows() || File.GetUnixFileMode(bundle) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), "the DR bundle is readable by others");
        var tenant = (await admin.GetFromJsonAsync<TenantDetailsDto>("tenant", PortalServer.Json))!;
        using var configKey = System.Security.Cryptography.ECDsa.Create();
        configKey.ImportFromPem(tenant.ConfigKeyPublicPem);
        var verified = new Gatehouse.Trust.Bundles.BundleVerifier([configKey.ExportSubjectPublicKeyInfo()], tenant.Id.ToString(), Gatehouse.Wire.Config.BundleConsumers.Dr, TimeProvider.System)
            .Verify(await File.ReadAllBytesAsync(bundle), null);
        Assert.True(verified.IsValid, verified.Reason);
        Assert.Equal(ExitCodes.BadInput, refused.Code);
        Assert.Contains("not a JSON policy document", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("payroll", (await RunAsync("dr", "show", "--json")).Stdout, StringComparison.Ordinal);

        var deleted = await RunAsync("dr", "delete");
        var deletedAgain = await RunAsync("dr", "delete");

        Assert.True(deleted.Code == 0, deleted.Stderr);
        Assert.Contains("DR settings deleted", deleted.Stdout, StringComparison.Ordinal);
        Assert.Contains("record:   (not set)", (await RunAsync("dr", "show")).Stdout, StringComparison.Ordinal);
        Assert.NotEqual(0, deletedAgain.Code);
        Assert.Contains("no DR settings to delete", deletedAgain.Stderr, StringComparison.Ordinal);
        Assert.NotEqual(0, (await RunAsync("dr", "export", "--output", bundle)).Code);
    }
}
