using System.Text.Json.Nodes;
using Gatehouse.Tuf.Keys;
using Gatehouse.Tuf.Metadata;

namespace Gatehouse.Tuf.Tests.Repository;

/// <summary>
/// A TUF repository a test controls, file by file: it signs with keys it generates, publishes
/// versioned files (consistent snapshots by default) and can be made to misbehave, which is how
/// each attack of the specification is staged. Files are served by <see cref="RepositoryServer"/>.
/// </summary>
internal sealed class RepositorySimulator : IDisposable
{
    private readonly Dictionary<string, long> targetsVersions = new(StringComparer.Ordinal);

    public RepositorySimulator(DateTimeOffset now)
    {
        Now = now;
        foreach (var role in new[] { RoleNames.Root, RoleNames.Timestamp, RoleNames.Snapshot, RoleNames.Targets })
        {
            Signers[role] = [TufSigner.GenerateEcdsa()];
            Thresholds[role] = 1;
        }

        RoleTargets[RoleNames.Targets] = new Dictionary<string, TargetFile>(StringComparer.Ordinal);
    }

    public DateTimeOffset Now { get; set; }

    public bool ConsistentSnapshot { get; set; } = true;

    /// <summary>The keys each role signs with (top-level and delegated).</summary>
    public Dictionary<string, List<TufSigner>> Signers { get; } = new(StringComparer.Ordinal);

    /// <summary>The threshold each top-level role gets in the next root.</summary>
    public Dictionary<string, int> Thresholds { get; } = new(StringComparer.Ordinal);

    /// <summary>Expiry per role; one week from <see cref="Now"/> when not set.</summary>
    public Dictionary<string, DateTimeOffset> Expires { get; } = new(StringComparer.Ordinal);

    /// <summary>The artifacts each targets role lists.</summary>
    public Dictionary<string, Dictionary<string, TargetFile>> RoleTargets { get; } = new(StringComparer.Ordinal);

    /// <summary>The delegations each targets role makes, in order.</summary>
    public Dictionary<string, List<DelegatedRole>> DelegationsOf { get; } = new(StringComparer.Ordinal);

    /// <summary>Extra fields to put into a role's signed part.</summary>
    public Dictionary<string, JsonObject> ExtraSignedFields { get; } = new(StringComparer.Ordinal);

    /// <summary>The files served, by path under the server's root as they appear in URLs (<c>metadata/1.root.json</c>, <c>targets/...</c>, escaped).</summary>
    public Dictionary<string, byte[]> Files { get; } = new(StringComparer.Ordinal);

    public long RootVersion { get; private set; }

    public long TimestampVersion { get; set; }

    public long SnapshotVersion { get; set; }

    public IReadOnlyDictionary<string, long> TargetsVersions => targetsVersions;

    /// <summary>The last published root file (what a client is initialised with).</summary>
    public byte[] RootBytes => Files[$"metadata/{RootVersion}.root.json"];

    /// <summary>The root the next <see cref="PublishRoot"/> signs.</summary>
    public RootMetadata BuildRoot(long version)
    {
        var keys = new Dictionary<string, TufKey>(StringComparer.Ordinal);
        var roles = new Dictionary<string, RoleKeys>(StringComparer.Ordinal);
        foreach (var role in new[] { RoleNames.Root, RoleNames.Timestamp, RoleNames.Snapshot, RoleNames.Targets })
        {
            foreach (var signer in Signers[role])
            {
                keys[signer.KeyId] = signer.PublicKey;
            }

            roles[role] = new RoleKeys([.. Signers[role].Select(s => s.KeyId)], Thresholds[role]);
        }

        return new RootMetadata(version, ExpiryOf(RoleNames.Root), keys, roles, ConsistentSnapshot);
    }

    /// <summary>Publishes the next root version, signed by the current root keys and <paramref name="alsoSignWith"/> (the previous root keys, for a rotation).</summary>
    public byte[] PublishRoot(IEnumerable<TufSigner>? alsoSignWith = null, IEnumerable<TufSigner>? signWithOnly = null)
    {
        RootVersion++;
        var signed = WithExtras(RoleNames.Root, BuildRoot(RootVersion).ToJson());
        var signers = signWithOnly?.ToList() ?? [.. Signers[RoleNames.Root], .. alsoSignWith ?? []];
        var bytes = SignedMetadata.Sign(signed, signers.DistinctBy(s => s.KeyId));
        Files[$"metadata/{RootVersion}.root.json"] = bytes;
        Files["metadata/root.json"] = bytes;
        return bytes;
    }

    /// <summary>Adds an artifact to a targets role and serves its bytes (under its hash-prefixed name too).</summary>
    public TargetFile AddTarget(string path, byte[] content, string role = RoleNames.Targets)
    {
        var target = TargetFile.Describe(path, content);
        RoleTargets[role][path] = target;
        ServeTarget(target, content);
        return target;
    }

    /// <summary>Serves <paramref name="content"/> where clients fetch <paramref name="target"/> from.</summary>
    public void ServeTarget(TargetFile target, byte[] content)
    {
        var slash = target.Path.LastIndexOf('/');
        foreach (var hash in target.Hashes.Values)
        {
            Files[$"targets/{Escape(target.Path[..(slash + 1)] + hash + "." + target.Path[(slash + 1)..])}"] = content;
        }

        Files[$"targets/{Escape(target.Path)}"] = content;
    }

    /// <summary>Delegates <paramref name="paths"/> from <paramref name="delegator"/> to a new role with its own key.</summary>
    public DelegatedRole Delegate(string delegator, string name, IReadOnlyList<string> paths, bool terminating = false, int keys = 1, int threshold = 1)
    {
        Signers[name] = [.. Enumerable.Range(0, keys).Select(_ => TufSigner.GenerateEcdsa())];
        var role = new DelegatedRole(name, new RoleKeys([.. Signers[name].Select(s => s.KeyId)], threshold), terminating, paths);
        if (!DelegationsOf.TryGetValue(delegator, out var list))
        {
            DelegationsOf[delegator] = list = [];
        }

        list.Add(role);
        RoleTargets[name] = new Dictionary<string, TargetFile>(StringComparer.Ordinal);
        return role;
    }

    public byte[] PublishTargets(string role = RoleNames.Targets)
    {
        var version = targetsVersions.GetValueOrDefault(role) + 1;
        targetsVersions[role] = version;
        Delegations? delegations = null;
        if (DelegationsOf.TryGetValue(role, out var delegated))
        {
            var keys = new Dictionary<string, TufKey>(StringComparer.Ordinal);
            foreach (var child in delegated)
            {
                foreach (var signer in Signers[child.Name])
                {
                    keys[signer.KeyId] = signer.PublicKey;
                }
            }

            delegations = new Delegations(keys, delegated);
        }

        var metadata = new TargetsMetadata(version, ExpiryOf(role), RoleTargets[role], delegations);
        var bytes = SignedMetadata.Sign(WithExtras(role, metadata.ToJson()), Signers[role]);
        Files[$"metadata/{version}.{Uri.EscapeDataString(role)}.json"] = bytes;
        Files[$"metadata/{Uri.EscapeDataString(role)}.json"] = bytes;
        return bytes;
    }

    public byte[] PublishSnapshot()
    {
        SnapshotVersion++;
        var bytes = SignSnapshot();
        Files[$"metadata/{SnapshotVersion}.snapshot.json"] = bytes;
        Files["metadata/snapshot.json"] = bytes;
        return bytes;
    }

    /// <summary>
    /// The current snapshot version signed again, without publishing it: the same content and version, other
    /// bytes (ECDSA signatures are randomised), so its hash differs from the published one's.
    /// </summary>
    public byte[] SignSnapshotAgain() => SignSnapshot();

    private byte[] SignSnapshot()
    {
        var meta = new Dictionary<string, MetaFile>(StringComparer.Ordinal);
        foreach (var (role, version) in targetsVersions)
        {
            meta[$"{role}.json"] = MetaFile.Describe(version, Files[$"metadata/{version}.{Uri.EscapeDataString(role)}.json"]);
        }

        return SignedMetadata.Sign(WithExtras(RoleNames.Snapshot, new SnapshotMetadata(SnapshotVersion, ExpiryOf(RoleNames.Snapshot), meta).ToJson()), Signers[RoleNames.Snapshot]);
    }

    public byte[] PublishTimestamp() => PublishTimestampOver(Files[$"metadata/{SnapshotVersion}.snapshot.json"]);

    /// <summary>Publishes the next timestamp over these snapshot bytes (a test's forged snapshot).</summary>
    public byte[] PublishTimestampOver(byte[] snapshot)
    {
        TimestampVersion++;
        var timestamp = new TimestampMetadata(TimestampVersion, ExpiryOf(RoleNames.Timestamp), MetaFile.Describe(SnapshotVersion, snapshot));
        var bytes = SignedMetadata.Sign(WithExtras(RoleNames.Timestamp, timestamp.ToJson()), Signers[RoleNames.Timestamp]);
        Files["metadata/timestamp.json"] = bytes;
        return bytes;
    }

    /// <summary>Publishes every targets role, then snapshot and timestamp: a complete new repository state.</summary>
    public void PublishAll()
    {
        foreach (var role in RoleTargets.Keys.ToList())
        {
            PublishTargets(role);
        }

        PublishSnapshot();
        PublishTimestamp();
    }

    /// <summary>Root version 1 and a complete first state.</summary>
    public static RepositorySimulator CreatePublished(DateTimeOffset now)
    {
        var repository = new RepositorySimulator(now);
        repository.PublishRoot();
        repository.PublishAll();
        return repository;
    }

    public void Dispose()
    {
        foreach (var signer in Signers.Values.SelectMany(s => s))
        {
            signer.Dispose();
        }
    }

    /// <summary>A target path as it appears in a URL: each segment escaped.</summary>
    public static string Escape(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    private DateTimeOffset ExpiryOf(string role) =>
        Expires.TryGetValue(role, out var at) ? at : new DateTimeOffset(Now.UtcDateTime.AddDays(7).Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);

    private JsonObject WithExtras(string role, JsonObject signed)
    {
        if (ExtraSignedFields.TryGetValue(role, out var extras))
        {
            foreach (var (name, value) in extras)
            {
                signed[name] = value?.DeepClone();
            }
        }

        return signed;
    }
}
