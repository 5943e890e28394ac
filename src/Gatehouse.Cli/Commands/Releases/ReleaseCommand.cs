using System.CommandLine;
using System.Security.Cryptography;
using Gatehouse.Cli.Output;
using Gatehouse.Trust;
using Gatehouse.Tuf;
using Gatehouse.Tuf.Keys;
using Gatehouse.Tuf.Metadata;
using Gatehouse.Tuf.Repository;

namespace Gatehouse.Cli.Commands.Releases;

/// <summary>
/// <c>gatehouse release key|repo|add|delegate|renew|publish|root|status</c>: a signed (TUF) release repository
/// kept on this machine, with keys read from files, so that root and targets keys can stay
/// offline. Nothing here talks to the portal.
/// </summary>
internal static class ReleaseCommand
{
    private const int DefaultExpiryDays = 365;

    public static Command Build(CliApp app)
    {
        var release = new Command("release", "Sign releases and content into a TUF repository with keys from files (offline)");
        release.Subcommands.Add(BuildKey(app));
        release.Subcommands.Add(BuildRepo(app));
        release.Subcommands.Add(BuildAdd(app));
        release.Subcommands.Add(BuildDelegate(app));
        release.Subcommands.Add(BuildRenew(app));
        release.Subcommands.Add(BuildPublish(app));
        release.Subcommands.Add(RootCommands.BuildRoot(app));
        release.Subcommands.Add(RootCommands.BuildStatus(app));
        return release;
    }

    private static Command BuildKey(CliApp app)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "Where to write the private key (PEM, mode 0600); refused if it exists" };
        var rsa = new Option<bool>("--rsa") { Description = "An RSA 3072 key (rsassa-pss-sha256) instead of ECDSA P-256" };
        var create = new Command("create", "Create a signing key") { file, rsa };
        var key = new Command("key", "Signing keys") { };
        key.Subcommands.Add(app.Action(app.WithJson(create), run =>
        {
            var path = run.Require(file).FullName;
            if (File.Exists(path))
            {
                throw new CliException(ExitCodes.BadInput, $"{path} exists; a key file is never overwritten");
            }

            using var signer = run.Get(rsa) ? TufSigner.RsaPss(RSA.Create(3072)) : TufSigner.GenerateEcdsa();
            OwnerOnlyFile.WriteAtomically(path, signer.ExportPrivateKeyPem(), overwrite: false);

            var result = new KeyCreated(path, signer.KeyId, signer.PublicKey.Scheme);
            if (run.Out.Json)
            {
                run.Out.WriteJson(result);
            }
            else
            {
                run.Environment.Stdout.WriteLine($"key {result.KeyId} ({result.Scheme}) written to {path}");
            }

            return Task.CompletedTask;
        }));
        return key;
    }

    private static Command BuildRepo(CliApp app)
    {
        var repoDir = RepoOption();
        var rootKeys = KeysOption("--root-key", "A root key file; repeat for several", required: true);
        var rootThreshold = new Option<int>("--root-threshold") { Description = "How many root keys must sign", DefaultValueFactory = _ => 1 };
        var targetsKeys = KeysOption("--targets-key", "A targets key file; repeat for several", required: true);
        var snapshotKeys = KeysOption("--snapshot-key", "The snapshot key file (online: the portal keeps it)", required: true);
        var timestampKeys = KeysOption("--timestamp-key", "The timestamp key file (online: the portal keeps it)", required: true);
        var days = ExpiryOption();
        var create = new Command("create", "Create a repository: root version 1, empty targets, snapshot and timestamp")
        {
            repoDir, rootKeys, rootThreshold, targetsKeys, snapshotKeys, timestampKeys, days,
        };
        var repo = new Command("repo", "Release repositories");
        repo.Subcommands.Add(app.Action(create, run => Guarded(() =>
        {
            using var ring = new KeyRing(run);
            var signers = new Dictionary<string, IReadOnlyList<TufSigner>>
            {
                [RoleNames.Root] = ring.Require(rootKeys),
                [RoleNames.Targets] = ring.Require(targetsKeys),
                [RoleNames.Snapshot] = ring.Require(snapshotKeys),
                [RoleNames.Timestamp] = ring.Require(timestampKeys),
            };
            var threshold = run.Get(rootThreshold);
            if (threshold < 1 || threshold > signers[RoleNames.Root].Count)
            {
                throw new CliException(ExitCodes.Usage, $"--root-threshold must be between 1 and the {Counted(signers[RoleNames.Root].Count, "root key")} given");
            }

            var now = run.Time.GetUtcNow();
            var expires = Expiry(now, run.Get(days));
            var keys = new Dictionary<string, TufKey>(StringComparer.Ordinal);
            var roles = new Dictionary<string, RoleKeys>(StringComparer.Ordinal);
            foreach (var (role, list) in signers)
            {
                foreach (var signer in list)
                {
                    keys[signer.KeyId] = signer.PublicKey;
                }

                roles[role] = new RoleKeys([.. list.Select(s => s.KeyId)], role == RoleNames.Root ? threshold : list.Count);
            }

            var root = new RootMetadata(1, expires, keys, roles, consistentSnapshot: true);
            var repository = TufRepository.Create(run.Require(repoDir).FullName, root, signers, _ => expires);
            run.Environment.Stdout.WriteLine($"repository created in {repository.Directory}; clients start from {Path.Combine(repository.MetadataDirectory, "1.root.json")}");
        })));
        return repo;
    }

    private static Command BuildAdd(CliApp app)
    {
        var repoDir = RepoOption();
        var file = new Argument<FileInfo>("FILE") { Description = "The artifact" };
        var path = new Option<string>("--path") { Description = "Its target path (agent/1.4.0/gatehouse-agent-linux-x64.tar.gz)", Required = true };
        var role = new Option<string>("--role") { Description = "The targets role that lists it", DefaultValueFactory = _ => RoleNames.Targets };
        var keys = KeysOption("--key", "A key of that role; repeat for its threshold", required: true);
        var days = ExpiryOption();
        var add = new Command("add", "Store an artifact and sign the next version of the role that lists it") { file, repoDir, path, role, keys, days };
        return app.Action(app.WithJson(add), run => Guarded(() =>
        {
            var repository = Open(run, repoDir);
            var roleName = run.Require(role);
            var current = repository.Targets(roleName) ?? throw new CliException(ExitCodes.NotFound, $"the repository has no role {roleName}; delegate to it first");
            var targetPath = run.Require(path);
            TufRepository.CheckTargetPath(targetPath);
            var content = File.ReadAllBytes(run.Require(file).FullName);
            var target = TargetFile.Describe(targetPath, content);
            if (current.Targets.TryGetValue(targetPath, out var listed) && !listed.Hashes.SequenceEqual(target.Hashes))
            {
                // A client that has the old bytes would be told they changed under the same name.
                throw new CliException(ExitCodes.Conflict, $"{roleName} lists {targetPath} already, with other bytes; a published artifact is never rewritten: add it under a new path (a new version)");
            }

            if (!repository.Trusts(roleName, targetPath))
            {
                throw new CliException(ExitCodes.BadInput, $"{roleName} is not trusted for {targetPath}: no client would accept it there; use the role whose paths cover it");
            }

            using var ring = new KeyRing(run);
            var signers = ring.Require(keys);
            // Signed (and checked against the role's keys) first, so a wrong key leaves nothing behind.
            var targets = new Dictionary<string, TargetFile>(current.Targets, StringComparer.Ordinal) { [target.Path] = target };
            var version = repository.SignTargets(roleName, new TargetsMetadata(0, Expiry(run.Time.GetUtcNow(), run.Get(days)), targets, current.Delegations), signers);
            repository.StoreArtifact(targetPath, content);
            var result = new TargetAdded(target.Path, target.Length, target.Hashes["sha256"], roleName, version);
            if (run.Out.Json)
            {
                run.Out.WriteJson(result);
            }
            else
            {
                run.Environment.Stdout.WriteLine($"{target.Path} ({target.Length} bytes) listed in {roleName} version {version}; {NextSnapshot}");
            }
        }));
    }

    private static Command BuildDelegate(CliApp app)
    {
        var repoDir = RepoOption();
        var name = new Argument<string>("ROLE") { Description = "The new role (a content channel: content-categories)" };
        var from = new Option<string>("--from") { Description = "The delegating role", DefaultValueFactory = _ => RoleNames.Targets };
        var paths = new Option<string[]>("--path") { Description = "A path pattern the role is trusted for (content/categories/*); repeat for several", Required = true };
        var roleKeys = KeysOption("--role-key", "A key file of the new role; repeat for several", required: true);
        var threshold = new Option<int>("--threshold") { Description = "How many of its keys must sign", DefaultValueFactory = _ => 1 };
        var terminating = new Option<bool>("--terminating") { Description = "Stop the search at this role for its paths" };
        var keys = KeysOption("--key", "A key of the delegating role; repeat for its threshold", required: true);
        var days = ExpiryOption();
        var command = new Command("delegate", "Delegate target paths to a new role and sign its first, empty version") { name, repoDir, from, paths, roleKeys, threshold, terminating, keys, days };
        return app.Action(command, run => Guarded(() =>
        {
            var repository = Open(run, repoDir);
            var parentName = run.Require(from);
            var roleName = run.Require(name);
            var parent = repository.Targets(parentName) ?? throw new CliException(ExitCodes.NotFound, $"the repository has no role {parentName}");
            if (RoleNames.IsTopLevel(roleName) || repository.LatestVersion(roleName) > 0)
            {
                throw new CliException(ExitCodes.Conflict, $"role {roleName} exists already");
            }

            if (run.Get(threshold) < 1 || run.Get(threshold) > run.Require(roleKeys).Length)
            {
                // Checked before anything is signed: the delegation would be written, and the role's first version refused.
                throw new CliException(ExitCodes.Usage, $"--threshold must be 1 to the number of --role-key files ({run.Require(roleKeys).Length})");
            }

            using var ring = new KeyRing(run);
            var childSigners = ring.Require(roleKeys);
            var parentSigners = ring.Require(keys);
            var expires = Expiry(run.Time.GetUtcNow(), run.Get(days));
            var delegationKeys = new Dictionary<string, TufKey>(parent.Delegations?.Keys ?? new Dictionary<string, TufKey>(), StringComparer.Ordinal);
            foreach (var signer in childSigners)
            {
                delegationKeys[signer.KeyId] = signer.PublicKey;
            }

            var role = new DelegatedRole(roleName, new RoleKeys([.. childSigners.Select(s => s.KeyId)], run.Get(threshold)), run.Get(terminating), run.Require(paths));
            var roles = (parent.Delegations?.Roles ?? []).Append(role).ToList();
            repository.SignTargets(parentName, new TargetsMetadata(0, expires, parent.Targets, new Delegations(delegationKeys, roles)), parentSigners);
            repository.SignTargets(roleName, new TargetsMetadata(0, expires, new Dictionary<string, TargetFile>()), childSigners);
            run.Environment.Stdout.WriteLine($"{parentName} delegates {string.Join(", ", role.Paths!)} to {roleName}");
        }));
    }

    private static Command BuildRenew(CliApp app)
    {
        var repoDir = RepoOption();
        var role = new Option<string>("--role") { Description = "The targets role to renew", DefaultValueFactory = _ => RoleNames.Targets };
        var keys = KeysOption("--key", "A key of that role; repeat for its threshold", required: true);
        var days = ExpiryOption();
        var renew = new Command("renew", "Sign the next version of a targets role with the same content and a new expiry") { repoDir, role, keys, days };
        return app.Action(renew, run => Guarded(() =>
        {
            var repository = TufRepository.Open(run.Require(repoDir).FullName);
            var roleName = run.Require(role);
            RefuseRenewOf(roleName, repository);
            var current = repository.Targets(roleName) ?? throw new CliException(ExitCodes.NotFound, $"the repository has no role {roleName}");
            var expires = Expiry(run.Time.GetUtcNow(), run.Get(days));
            using var ring = new KeyRing(run);
            var version = repository.SignTargets(roleName, new TargetsMetadata(0, expires, current.Targets, current.Delegations), ring.Require(keys));
            run.Environment.Stdout.WriteLine($"{roleName} version {version} expires {Times.ToTheMinute(expires)}; {NextSnapshot}");

            RootCommands.WarnIfExpiring(run, repository);
        }));
    }

    // Renew signs targets roles; root and the online roles have their own commands, which it names.
    private static void RefuseRenewOf(string role, TufRepository repository)
    {
        if (role == RoleNames.Root)
        {
            throw new CliException(ExitCodes.Usage, $"root is renewed with `gatehouse release root sign`, by a threshold of its keys: {RootCommands.RootSignCommand(repository.Directory, repository.Root)}");
        }

        if (role is RoleNames.Snapshot or RoleNames.Timestamp)
        {
            throw new CliException(ExitCodes.Usage, $"{role} is renewed with `gatehouse release publish`, which signs a new snapshot and timestamp (the portal does so for its own repository): {RootCommands.PublishCommand(repository.Directory)}");
        }
    }

    private static Command BuildPublish(CliApp app)
    {
        var repoDir = RepoOption();
        var snapshotKeys = KeysOption("--snapshot-key", "The snapshot key file", required: true);
        var timestampKeys = KeysOption("--timestamp-key", "The timestamp key file", required: true);
        var days = new Option<int>("--expires-days") { Description = "Days until snapshot and timestamp expire", DefaultValueFactory = _ => 7 };
        var publish = new Command("publish", "Sign a new snapshot and timestamp over the latest targets (the portal does this online)") { repoDir, snapshotKeys, timestampKeys, days };
        return app.Action(publish, run => Guarded(() =>
        {
            var repository = Open(run, repoDir);
            using var ring = new KeyRing(run);
            var snapshot = ring.Require(snapshotKeys);
            var timestamp = ring.Require(timestampKeys);
            var expires = Expiry(run.Time.GetUtcNow(), run.Get(days));
            var snapshotVersion = repository.SignSnapshot(snapshot, expires);
            var timestampVersion = repository.SignTimestamp(timestamp, expires);
            run.Environment.Stdout.WriteLine($"snapshot version {snapshotVersion}, timestamp version {timestampVersion}");
        }));
    }

    private const string NextSnapshot = "clients see it in the next snapshot (the portal signs one within a minute for its own repository; elsewhere run `gatehouse release publish`)";

    // Opens a repository and warns, before the command's work, when root or targets is about to expire.
    private static TufRepository Open(Invocation run, Option<DirectoryInfo> repoDir)
    {
        var repository = TufRepository.Open(run.Require(repoDir).FullName);
        RootCommands.WarnIfExpiring(run, repository);
        return repository;
    }

    internal static Option<DirectoryInfo> RepoOption() => new("--repo") { Description = "The repository directory", Required = true };

    internal static Option<FileInfo[]> KeysOption(string name, string description, bool required) =>
        new(name) { Description = description, Required = required, HelpName = "FILE" };

    private const int MaxExpiryDays = 3650;

    internal static Option<int> ExpiryOption() =>
        new("--expires-days") { Description = "Days until the signed metadata expires", DefaultValueFactory = _ => DefaultExpiryDays };

    internal static DateTimeOffset Expiry(DateTimeOffset now, int days)
    {
        if (days is < 1 or > MaxExpiryDays)
        {
            throw new CliException(ExitCodes.Usage, $"--expires-days must be 1 to {MaxExpiryDays} (10 years)");
        }

        // Whole seconds: the specification's timestamp form has no fraction.
        var at = now.AddDays(days);
        return new DateTimeOffset(at.Ticks - (at.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
    }

    /// <summary>How messages count: <c>1 root key</c>, <c>2 root keys</c>.</summary>
    internal static string Counted(int count, string noun) => count == 1 ? $"1 {noun}" : $"{count} {noun}s";

    // Repository refusals (a rotation without the old keys, a rewritten version) are bad input, not crashes.
    internal static Task Guarded(Action body)
    {
        try
        {
            body();
        }
        catch (TufException e)
        {
            throw new CliException(e.Failure switch { TufFailure.State => ExitCodes.Conflict, TufFailure.NotFound => ExitCodes.NotFound, _ => ExitCodes.BadInput }, e.Message, inner: e);
        }

        return Task.CompletedTask;
    }

    internal sealed record KeyCreated(string Path, string KeyId, string Scheme);

    internal sealed record TargetAdded(string Path, long Length, string Sha256, string Role, long Version);
}
