using System.CommandLine;
using Gatehouse.Cli.Output;
using Gatehouse.Tuf;
using Gatehouse.Tuf.Metadata;
using Gatehouse.Tuf.Repository;
using static Gatehouse.Cli.Commands.Releases.ReleaseCommand;

namespace Gatehouse.Cli.Commands.Releases;

/// <summary>
/// <c>gatehouse release root sign</c> (renew root, rotate any top-level role's keys) and <c>gatehouse release
/// status</c>, and the warning every command that opens a repository gives when root or targets is about to expire.
/// </summary>
internal static class RootCommands
{
    /// <summary>How long before root or targets expires the commands start to warn.</summary>
    private static readonly TimeSpan WarnBefore = TimeSpan.FromDays(30);

    // Snapshot and timestamp signed here get what `release publish` gives them; the portal re-signs its own sooner.
    private const int OnlineExpiryDays = 7;

    public static Command BuildRoot(CliApp app)
    {
        var repoDir = RepoOption();
        var keys = KeysOption("--key", "A key of the current root; repeat for its threshold", required: true);
        var rootKeys = KeysOption("--root-key", "A root key of the new root (replaces the root keys); repeat for several", required: false);
        var rootThreshold = new Option<int?>("--root-threshold") { Description = "How many root keys must sign (default: the current threshold)", HelpName = "N" };
        var targetsKeys = KeysOption("--targets-key", "The new targets key (replaces the targets keys; targets is re-signed with it); repeat for several", required: false);
        var snapshotKeys = KeysOption("--snapshot-key", "The snapshot key, new or current (snapshot is re-signed with it); needed with --targets-key", required: false);
        var timestampKeys = KeysOption("--timestamp-key", "The timestamp key, new or current (timestamp is re-signed with it); needed with --snapshot-key", required: false);
        var days = new Option<int>("--expires-days") { Description = "Days until the new root (and a re-signed targets) expires", DefaultValueFactory = _ => 365 };
        var sign = new Command(
            "sign",
            "Sign the next root version: renew its expiry and, with a role's key options, replace that role's keys. Every key is a private key file " +
            "(`release key create`); a role whose keys are given is re-signed with them, so nothing is left signed by keys the new root drops")
        {
            repoDir, keys, rootKeys, rootThreshold, targetsKeys, snapshotKeys, timestampKeys, days,
        };
        var root = new Command("root", "The root role: the keys of every top-level role");
        root.Subcommands.Add(app.Action(app.WithJson(sign), run => Guarded(() =>
        {
            var repository = TufRepository.Open(run.Require(repoDir).FullName);
            var now = run.Time.GetUtcNow();
            var expires = Expiry(now, run.Get(days));
            using var ring = new KeyRing(run);
            var rotation = new RootRotation
            {
                Expires = expires,
                CurrentRootKeys = ring.Require(keys),
                RootKeys = ring.Get(rootKeys),
                RootThreshold = run.Get(rootThreshold),
                TargetsKeys = ring.Get(targetsKeys),
                SnapshotKeys = ring.Get(snapshotKeys),
                TimestampKeys = ring.Get(timestampKeys),
                TargetsExpires = expires,
                OnlineExpires = Expiry(now, OnlineExpiryDays),
            };
            // Checked here to name the options; the repository checks the same before it signs.
            var currentRoot = repository.Root.Role(RoleNames.Root);
            var count = rotation.RootKeys?.Count ?? currentRoot.KeyIds.Count;
            var threshold = rotation.RootThreshold ?? currentRoot.Threshold;
            if (threshold < 1 || threshold > count)
            {
                throw new CliException(ExitCodes.Usage, rotation.RootThreshold is null
                    ? $"the new root keeps the current root threshold of {threshold}, more than the {Counted(count, "--root-key file")} given: give --root-threshold"
                    : rotation.RootKeys is not null
                        ? $"--root-threshold must be between 1 and the {Counted(count, "--root-key file")} given"
                        : $"--root-threshold must be between 1 and the {Counted(count, "key")} of the current root, which the new root keeps (give --root-key to replace them)");
            }

            if (rotation.TargetsKeys is not null && rotation.SnapshotKeys is null)
            {
                // Clients would read the new targets only through a new snapshot, and the old one lists the targets the new root refuses.
                throw new CliException(ExitCodes.Usage, "--targets-key re-signs targets, which needs a new snapshot and timestamp: give --snapshot-key and --timestamp-key too (the current keys keep them)");
            }

            if (rotation.SnapshotKeys is not null && rotation.TimestampKeys is null)
            {
                throw new CliException(ExitCodes.Usage, "--snapshot-key re-signs snapshot, which needs a new timestamp: give --timestamp-key too (the current key keeps it)");
            }

            var signed = repository.SignNextRoot(rotation);
            var result = new RootSignedResult(signed.RootVersion, expires, signed.Resigned);
            if (run.Out.Json)
            {
                run.Out.WriteJson(result);
            }
            else
            {
                var resigned = signed.Resigned.Count == 0 ? "" : $"; re-signed {string.Join(", ", signed.Resigned.Select(r => $"{r.Key} version {r.Value}"))}";
                run.Environment.Stdout.WriteLine($"root version {signed.RootVersion} expires {Times.ToTheMinute(expires)}{resigned}");
            }

            WarnIfExpiring(run, repository);
        })));
        return root;
    }

    public static Command BuildStatus(CliApp app)
    {
        var repoDir = RepoOption();
        var status = new Command("status", "Each role's version, expiry and keys, checked as a client checks them") { repoDir };
        return app.Action(app.WithJson(status), run => Guarded(() =>
        {
            var repository = TufRepository.Open(run.Require(repoDir).FullName);
            if (repository.FindPublishedFault() is { } fault)
            {
                throw new CliException(ExitCodes.BadInput, $"clients refuse this repository: {fault.File}: {fault.Reason}. A new snapshot and timestamp over the latest " +
                    $"version of every role repair it, signed with the snapshot and timestamp keys root version {repository.Root.Version} lists: {PublishCommand(repository.Directory)}");
            }

            var now = run.Time.GetUtcNow();
            var states = repository.States().Select(s => new RoleStatus(s.Name, s.Version, s.Expires, s.Expires <= now, s.Keys.KeyIds, s.Keys.Threshold)).ToList();
            if (run.Out.Json)
            {
                run.Out.WriteJson(states);
            }
            else
            {
                var table = new Table("ROLE", "VERSION", "EXPIRES", "THRESHOLD", "KEYS");
                foreach (var state in states)
                {
                    table.Row(state.Role, state.Version, Times.ToTheMinute(state.Expires) + (state.Expired ? " (expired)" : ""), $"{state.Threshold} of {state.KeyIds.Count}", string.Join(",", state.KeyIds.Select(id => id[..12])));
                }

                table.WriteTo(run.Environment.Stdout, run.Environment.UseColour);
            }

            foreach (var stray in repository.StrayFiles())
            {
                run.Environment.Stderr.WriteLine($"warning: {Path.Combine(repository.MetadataDirectory, stray)} is ignored: clients fetch metadata as VERSION.ROLE.json, " +
                    "the version a plain number from 1 (10.root.json, not 010.root.json), and never read it; remove it");
            }

            WarnIfExpiring(run, repository);
        }));
    }

    /// <summary>
    /// Warns on stderr when root, top-level targets or <c>releases</c> (roles signed offline) expires within
    /// <see cref="WarnBefore"/> or has expired, and when any other delegated role has expired: once one has, clients
    /// refuse what it lists (all of the repository, for root and targets), and nothing but these commands renews the
    /// offline ones. A delegated role the portal signs online is renewed by the portal well before it expires.
    /// </summary>
    public static void WarnIfExpiring(Invocation run, TufRepository repository)
    {
        var now = run.Time.GetUtcNow();
        var repo = repository.Directory;
        var root = repository.Root;
        Warn(run, now, root.Expires, RoleNames.Root, RootSignCommand(repo, root));
        if (repository.Targets(RoleNames.Targets) is not { } targets)
        {
            return;
        }

        Warn(run, now, targets.Expires, RoleNames.Targets, $"gatehouse release renew --repo {repo} --key TARGETS-KEY.pem");
        foreach (var delegated in targets.Delegations?.Roles ?? [])
        {
            if (DelegatedOrNull(repository, delegated.Name) is { } role && (delegated.Name == ReleasesRole || role.Expires <= now))
            {
                Warn(run, now, role.Expires, delegated.Name, $"gatehouse release renew --repo {repo} --role {delegated.Name} --key {delegated.Name.ToUpperInvariant()}-KEY.pem");
            }
        }
    }

    /// <summary>The command that renews <paramref name="root"/>, with as many <c>--key</c> options as its threshold needs.</summary>
    internal static string RootSignCommand(string repo, RootMetadata root)
    {
        var threshold = root.Role(RoleNames.Root).Threshold;
        var keys = Enumerable.Range(1, threshold).Select(i => threshold == 1 ? "--key ROOT-KEY.pem" : $"--key ROOT-KEY-{i}.pem");
        return $"gatehouse release root sign --repo {repo} {string.Join(' ', keys)}";
    }

    /// <summary>The command that signs a new snapshot and timestamp over the latest version of every targets role.</summary>
    internal static string PublishCommand(string repo) =>
        $"gatehouse release publish --repo {repo} --snapshot-key SNAPSHOT-KEY.pem --timestamp-key TIMESTAMP-KEY.pem";

    /// <summary>A delegated role's latest metadata, or null when it does not verify: refusing that is the signing command's part, with the file named.</summary>
    private static TargetsMetadata? DelegatedOrNull(TufRepository repository, string role)
    {
        try
        {
            return repository.Targets(role);
        }
        catch (TufException)
        {
            return null;
        }
    }

    /// <summary>The role that signs agent releases, offline (the portal's repository delegates it so).</summary>
    private const string ReleasesRole = "releases";

    private static void Warn(Invocation run, DateTimeOffset now, DateTimeOffset expires, string role, string command)
    {
        if (expires - now > WarnBefore)
        {
            return;
        }

        var when = expires <= now
            ? $"expired at {Times.ToTheMinute(expires)}: clients refuse the repository until it is renewed"
            : $"expires at {Times.ToTheMinute(expires)} (in {Math.Ceiling((expires - now).TotalDays):0} {(Math.Ceiling((expires - now).TotalDays) == 1 ? "day" : "days")})";
        run.Environment.Stderr.WriteLine($"warning: {role} {when}; renew it: {command}");
    }

    internal sealed record RootSignedResult(long RootVersion, DateTimeOffset Expires, IReadOnlyDictionary<string, long> Resigned);

    internal sealed record RoleStatus(string Role, long Version, DateTimeOffset Expires, bool Expired, IReadOnlyList<string> KeyIds, int Threshold);
}
