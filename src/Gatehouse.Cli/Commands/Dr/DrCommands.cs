using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Gatehouse.Cli.Connection;
using Gatehouse.Trust;
using Gatehouse.Trust.Dr;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Dr;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Cli.Commands.Dr;

/// <summary>
/// <c>gatehouse dr key create|record</c>: the tenant's disaster-recovery key and the signed DNS TXT
/// record that switches its fleet to DR. The key stays with the customer, so both run offline:
/// nothing there talks to the portal. <c>gatehouse dr show|set|export</c> manage the tenant's DR
/// settings and export its signed DR bundle, through the portal.
/// </summary>
internal static class DrCommands
{
    private const int RecordTtlSeconds = 300;

    public static Command Build(CliApp app)
    {
        var dr = new Command("dr", "Disaster recovery: the DR key and signed trigger record (offline), the tenant's DR settings and DR bundle");
        dr.Subcommands.Add(BuildKey(app));
        dr.Subcommands.Add(BuildRecord(app));
        dr.Subcommands.Add(app.Action(app.WithJson(new Command("show", "Show the tenant's DR settings")), async run =>
            await ShowAsync(run, await run.Client.GetAsync<DrSettingsDto>("dr", run.Cancellation))));
        dr.Subcommands.Add(BuildSet(app));
        dr.Subcommands.Add(BuildExport(app));
        dr.Subcommands.Add(app.Action(new Command("delete", "Delete the tenant's DR settings: agents leave DR and stop checking the record; no DR bundle is built"), async run =>
        {
            await run.Client.SendAsync(HttpMethod.Delete, "dr", null, run.Cancellation);
            run.Environment.Stdout.WriteLine("DR settings deleted: agents stop checking the DR record from their next bundle");
        }));
        return dr;
    }

    private static Command BuildSet(CliApp app)
    {
        var recordName = new Option<string>("--record-name") { Description = "The DNS name of the trigger record, in a domain you control", Required = true, HelpName = "NAME" };
        var publicKey = new Option<FileInfo>("--public-key") { Description = "The DR public key (FILE.pub from `dr key create`)", Required = true, HelpName = "FILE" };
        var edges = new Option<string[]>("--edge") { Description = "An enrolled edge that is a DR edge, by name or id; repeatable", Required = true, HelpName = "EDGE" };
        var drill = new Option<string>("--drill-group") { Description = "The group whose devices a `test` record moves, by name or id", HelpName = "GROUP" };
        var policy = new Option<FileInfo>("--policy") { Description = "The DR policy: a JSON policy document, as `policy export --format json` prints", HelpName = "FILE" };
        var defaultAction = new Option<string>("--default") { Description = "What DR edges do with traffic no DR rule covers", DefaultValueFactory = _ => "block", HelpName = "allow|block" };
        defaultAction.AcceptOnlyFromAmong("allow", "block");
        var check = new Option<int?>("--check-seconds") { Description = "How often agents look the record up (60)", HelpName = "N" };
        var set = new Command("set", "Replace the tenant's DR settings") { recordName, publicKey, edges, drill, policy, defaultAction, check };
        return app.Action(app.WithJson(set), async run =>
        {
            var publicKeyPem = ReadText(run.Require(publicKey));
            if (publicKeyPem.Contains("PRIVATE KEY", StringComparison.Ordinal))
            {
                // Checked before anything is sent: the private key stays offline, with whoever signs the DR record.
                throw new CliException(ExitCodes.BadInput, $"{run.Require(publicKey).FullName} holds the DR private key, which never leaves your offline machine; give its public half, {run.Require(publicKey).Name}.pub from `gatehouse dr key create`");
            }

            var rules = run.Get(policy) is { } file ? ReadJson<PolicyDocument>(file).Rules : [];
            var edgeIds = await NameLookup.EdgeIdsAsync(run, run.Require(edges));
            Guid? drillGroup = run.Get(drill) is { } group ? await NameLookup.GroupIdAsync(run, group) : null;
            var request = new PutDrSettingsRequest(run.Require(recordName), publicKeyPem, edgeIds, drillGroup, rules, run.Get(defaultAction), run.Get(check));
            await ShowAsync(run, await run.Client.SendAsync<DrSettingsDto>(HttpMethod.Put, "dr", request, run.Cancellation));
        });
    }

    private static Command BuildExport(CliApp app)
    {
        var output = new Option<FileInfo>("--output") { Description = "Where to write the signed DR bundle", Required = true, HelpName = "FILE" };
        var export = new Command("export", "Write the tenant's signed DR bundle, for `gatehouse-edge run --dr-bundle FILE` with no portal") { output };
        return app.Action(export, async run =>
        {
            var file = run.Require(output).FullName;
            var bundle = await run.Client.GetBytesAsync("dr/bundle", run.Cancellation);

            // Owner-only: the bundle lists the tenant's users and devices and its proxy credentials' hashes.
            OwnerOnlyFile.WriteAtomically(file, bundle, overwrite: true);
            run.Environment.Stdout.WriteLine($"DR bundle written to {file} ({bundle.Length} bytes)");
        });
    }

    /// <summary>
    /// Prints the settings, naming the DR edges and the drill group (their ids are in <c>--json</c>); the lists that
    /// give the names are fetched only when there is something to name.
    /// </summary>
    private static async Task ShowAsync(Invocation run, ApiResult<DrSettingsDto> settings)
    {
        var names = new Dictionary<Guid, string>();
        if (!run.Out.Json && settings.Value.EdgeIds.Count > 0)
        {
            foreach (var edge in (await run.Client.ListAsync<EdgeDto>("edges", null, run.Cancellation)).Value)
            {
                names[edge.Id] = edge.Name;
            }
        }

        if (!run.Out.Json && settings.Value.DrillGroupId is not null)
        {
            foreach (var group in (await run.Client.ListAsync<GroupDto>("groups", null, run.Cancellation)).Value)
            {
                names[group.Id] = group.Name;
            }
        }

        run.Out.One(settings, (w, s) => Describe(w, s, id => names.TryGetValue(id, out var name) ? $"{name} ({id})" : id.ToString()));
    }

    private static void Describe(TextWriter w, DrSettingsDto s, Func<Guid, string> named)
    {
        w.WriteLine($"record:   {s.RecordName ?? "(not set)"}{(s.Ready ? "" : "  (not ready: agents get DR settings once the record name, key and a DR edge are set)")}");
        w.WriteLine($"DR edges: {(s.EdgeIds.Count == 0 ? "(none)" : string.Join(", ", s.EdgeIds.Select(named)))}");
        w.WriteLine($"drill:    {(s.DrillGroupId is { } drill ? named(drill) : "(no drill group)")}");
        w.WriteLine($"policy:   {s.Rules.Count} {(s.Rules.Count == 1 ? "rule" : "rules")}, then {s.DefaultAction} for everything else; checked every {s.CheckSeconds} s");
    }

    private static string ReadText(FileInfo file)
    {
        try
        {
            return File.ReadAllText(file.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.BadInput, $"cannot read {file.FullName}: {e.Message}", inner: e);
        }
    }

    private static T ReadJson<T>(FileInfo file)
    {
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<T>(ReadText(file), Connection.PortalClient.Json)
                ?? throw new CliException(ExitCodes.BadInput, $"{file.FullName} is empty");
        }
        catch (System.Text.Json.JsonException e) when (Gatehouse.Wire.Api.UnknownJsonField.PathOf(e) is { } unknown)
        {
            // A field the format does not have, most often a misspelt one.
            throw new CliException(ExitCodes.BadInput, $"{file.FullName} is not a JSON policy document: {unknown} is not a field of one (misspelt?)", inner: e);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new CliException(ExitCodes.BadInput, $"{file.FullName} is not a JSON policy document: {e.Message}", inner: e);
        }
    }

    private static Command BuildKey(CliApp app)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "Where to write the private key (PEM, mode 0600); the public key goes to FILE.pub; refused if either exists" };
        var create = new Command("create", "Create a DR key (ECDSA P-256)") { file };
        var key = new Command("key", "The tenant's DR key");
        key.Subcommands.Add(app.Action(app.WithJson(create), run =>
        {
            var path = run.Require(file).FullName;
            var publicPath = path + ".pub";
            foreach (var existing in new[] { path, publicPath }.Where(File.Exists))
            {
                throw new CliException(ExitCodes.BadInput, $"{existing} exists; a key file is never overwritten");
            }

            using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            OwnerOnlyFile.WriteAtomically(path, ecdsa.ExportPkcs8PrivateKeyPem(), overwrite: false);

            try
            {
                using var stream = new FileStream(publicPath, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write });
                using var writer = new StreamWriter(stream);
                writer.Write(ecdsa.ExportSubjectPublicKeyInfoPem());
            }
            catch
            {
                // A private key without its public half is of no use: leave nothing behind.
                File.Delete(path);
                throw;
            }

            if (run.Out.Json)
            {
                run.Out.WriteJson(new DrKeyCreated(path, publicPath));
            }
            else
            {
                run.Environment.Stdout.WriteLine($"private key written to {path} (keep it offline)");
                run.Environment.Stdout.WriteLine($"public key written to {publicPath}");
            }

            return Task.CompletedTask;
        }));
        return key;
    }

    private static Command BuildRecord(CliApp app)
    {
        var keyFile = new Option<FileInfo>("--key") { Description = "The DR private key (PEM)", Required = true, HelpName = "FILE" };
        var tenant = new Option<Guid>("--tenant") { Description = "The tenant's id", Required = true, HelpName = "TENANT-ID" };
        var version = new Option<long>("--version") { Description = "The record's version: higher than every record published before", Required = true, HelpName = "N" };
        var state = new Option<string>("--state") { Description = $"DR {string.Join('|', DrStates.All)}", Required = true, HelpName = string.Join('|', DrStates.All) };
        var mode = new Option<string>("--mode") { Description = "What happens to traffic the DR policy does not cover", DefaultValueFactory = _ => DrModes.Closed, HelpName = string.Join('|', DrModes.All) };
        var hours = new Option<int>("--valid-hours") { Description = "Hours until the record expires", DefaultValueFactory = _ => 24, HelpName = "H" };
        var name = new Option<string>("--name") { Description = "The record's DNS name: also print a zone file line and a dnsmasq line", HelpName = "RECORD-NAME" };
        var record = new Command("record", "Print a signed DR record (the text of a DNS TXT record)") { keyFile, tenant, version, state, mode, hours, name };
        return app.Action(app.WithJson(record), run =>
        {
            var stateValue = run.Require(state);
            if (!DrStates.All.Contains(stateValue))
            {
                throw new CliException(ExitCodes.Usage, $"--state '{stateValue}' is not one of {string.Join(", ", DrStates.All)}");
            }

            var modeValue = run.Require(mode);
            if (!DrModes.All.Contains(modeValue))
            {
                throw new CliException(ExitCodes.Usage, $"--mode '{modeValue}' is not one of {string.Join(", ", DrModes.All)}");
            }

            var versionValue = run.Get(version);
            if (versionValue < 1)
            {
                throw new CliException(ExitCodes.Usage, "--version must be 1 or more");
            }

            var validHours = run.Get(hours);
            if (validHours < 1)
            {
                throw new CliException(ExitCodes.Usage, "--valid-hours must be 1 or more");
            }

            var recordName = run.Get(name)?.TrimEnd('.');
            if (recordName is not null && !IsDnsName(recordName))
            {
                throw new CliException(ExitCodes.Usage, $"--name '{recordName}' is not a DNS name");
            }

            // Whole seconds: the record carries Unix seconds.
            var now = run.Time.GetUtcNow();
            var issued = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds());
            var dr = new DrRecord(run.Get(tenant), versionValue, stateValue, modeValue, issued, issued.AddHours(validHours));
            string text;
            var file = run.Require(keyFile);
            using (var key = LoadKey(file))
            {
                try
                {
                    text = DrRecordSigning.Sign(dr, key);
                }
                catch (ArgumentException e)
                {
                    // The record's fields are checked above: what is left is a key of another curve.
                    throw new CliException(ExitCodes.BadInput, $"{file.FullName}: {e.Message} (make one with `gatehouse dr key create`)", inner: e);
                }
            }

            var zoneFile = recordName is null ? null : string.Create(CultureInfo.InvariantCulture, $"{recordName}. {RecordTtlSeconds} IN TXT \"{text}\"");
            var dnsmasq = recordName is null ? null : $"txt-record={recordName},\"{text}\"";
            if (run.Out.Json)
            {
                run.Out.WriteJson(new DrRecordPrinted(text, dr.TenantId, dr.Version, dr.State, dr.Mode, dr.Issued, dr.Expires, recordName, zoneFile, dnsmasq));
            }
            else
            {
                run.Environment.Stdout.WriteLine(text);
                if (recordName is not null)
                {
                    run.Environment.Stdout.WriteLine(zoneFile);
                    run.Environment.Stdout.WriteLine(dnsmasq);
                }
            }

            return Task.CompletedTask;
        });
    }

    private static ECDsa LoadKey(FileInfo file)
    {
        string pem;
        try
        {
            pem = File.ReadAllText(file.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.BadInput, $"the DR key cannot be read: {e.Message}", inner: e);
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);

            // Throws when the file holds only a public key.
            key.ExportParameters(includePrivateParameters: true);
            return key;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new CliException(ExitCodes.BadInput, $"{file.FullName} is not an ECDSA private key in PEM: {e.Message}", inner: e);
        }
    }

    private static bool IsDnsName(string name) =>
        name.Length is > 0 and <= 253 &&
        name.Split('.').All(label => label.Length is > 0 and <= 63 && label.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));

    internal sealed record DrKeyCreated(string PrivateKey, string PublicKey);

    internal sealed record DrRecordPrinted(
        string Text, Guid TenantId, long Version, string State, string Mode, DateTimeOffset Issued, DateTimeOffset Expires,
        string? Name, string? ZoneFileLine, string? DnsmasqLine);
}
