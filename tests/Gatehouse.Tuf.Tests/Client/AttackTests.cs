using System.Text.Json.Nodes;
using Gatehouse.Tuf.Keys;
using Gatehouse.Tuf.Metadata;
using Gatehouse.Tuf.Tests.Repository;

namespace Gatehouse.Tuf.Tests.Client;

/// <summary>
/// One test (or a few) for each attack the TUF specification names (section 1.5.2): the
/// repository or a mirror misbehaves, and the client refuses, stores nothing it did not verify,
/// and keeps what it trusted before.
/// </summary>
public sealed class AttackTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    // --- arbitrary software installation -----------------------------------------------------

    [Fact]
    public async Task Arbitrary_installation_an_artifact_swapped_on_the_mirror_is_refused_and_never_written()
    {
        await using var client = await ClientUnderTest.StartAsync(RepositorySimulator.CreatePublished(Now));
        var target = client.Repository.AddTarget("agent/gatehouse-agent.tar.gz", "good build"u8.ToArray());
        client.Repository.PublishAll();
        client.Repository.ServeTarget(target, "evil build"u8.ToArray());

        var error = await Assert.ThrowsAsync<TufException>(() => client.DownloadAsync("agent/gatehouse-agent.tar.gz"));

        Assert.Equal(TufFailure.Mismatch, error.Failure);
        Assert.False(Directory.Exists(client.TargetDirectory) && Directory.EnumerateFiles(client.TargetDirectory).Any());
    }

    [Fact]
    public async Task Arbitrary_installation_targets_metadata_signed_by_an_unknown_key_is_refused()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        await using var client = await ClientUnderTest.StartAsync(repository);
        await client.RefreshAsync();
        repository.Signers[RoleNames.Targets] = [TufSigner.GenerateEcdsa()]; // the attacker's key, not in root
        repository.AddTarget("agent/gatehouse-agent.tar.gz", "evil"u8.ToArray());
        repository.PublishAll();

        var error = await client.RefreshFailsAsync();

        Assert.Equal(TufFailure.Unsigned, error.Failure);
        Assert.Equal(1, client.StoredVersion(RoleNames.Targets));
    }

    [Fact]
    public async Task Arbitrary_installation_a_signature_over_other_bytes_does_not_count()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        await using var client = await ClientUnderTest.StartAsync(repository);
        await client.RefreshAsync();
        repository.PublishTimestamp();
        var forged = SignedMetadata.Parse(repository.Files["metadata/timestamp.json"]);
        forged.Signed["version"] = 99; // signature no longer covers the bytes
        repository.Files["metadata/timestamp.json"] = SignedMetadata.Write(forged.Signed, SignaturesOf(forged));

        Assert.Equal(TufFailure.Unsigned, (await client.RefreshFailsAsync()).Failure);
        Assert.Equal(1, client.StoredVersion(RoleNames.Timestamp));
    }

    // --- endless data -------------------------------------------------------------------------

    [Theory]
    [InlineData("metadata/timestamp.json")]
    [InlineData("metadata/2.root.json")]
    public async Task Endless_data_a_metadata_file_that_never_ends_is_cut_at_its_limit(string path)
    {
        await using var client = await ClientUnderTest.StartAsync(RepositorySimulator.CreatePublished(Now));
        client.Server.ServeEndlessly(path);

        var error = await client.RefreshFailsAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(TufFailure.TooLarge, error.Failure);
    }

    [Fact]
    public async Task Endless_data_an_artifact_longer_than_signed_is_cut_at_its_length()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        var target = repository.AddTarget("agent/a.tar.gz", "small"u8.ToArray());
        repository.PublishAll();
        await using var client = await ClientUnderTest.StartAsync(repository);
        client.Server.ServeEndlessly($"targets/agent/{target.Hashes["sha256"]}.a.tar.gz");

        var error = await Assert.ThrowsAsync<TufException>(() => client.DownloadAsync("agent/a.tar.gz")).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(TufFailure.TooLarge, error.Failure);
    }

    [Fact]
    public async Task Endless_data_a_snapshot_longer_than_the_timestamp_says_is_refused()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        await using var client = await ClientUnderTest.StartAsync(repository);
        repository.Files["metadata/1.snapshot.json"] = [.. repository.Files["metadata/1.snapshot.json"], .. " "u8];

        Assert.Equal(TufFailure.TooLarge, (await client.RefreshFailsAsync()).Failure);
        Assert.Null(client.Stored(RoleNames.Snapshot));
    }

    // --- rollback -----------------------------------------------------------------------------

    [Fact]
    public async Task Rollback_an_older_timestamp_is_refused_and_the_newer_one_stays()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        await using var client = await ClientUnderTest.StartAsync(repository);
        var old = repository.Files["metadata/timestamp.json"];
        repository.PublishAll();
        await client.RefreshAsync();
        repository.Files["metadata/timestamp.json"] = old;

        Assert.Equal(TufFailure.Rollback, (await client.RefreshFailsAsync()).Failure);
        Assert.Equal(2, client.StoredVersion(RoleNames.Timestamp));
    }

    [Fact]
    public async Task Rollback_a_new_timestamp_naming_an_older_snapshot_is_refused()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        repository.PublishAll();
        await using var client = await ClientUnderTest.StartAsync(repository);
        await client.RefreshAsync();
        repository.SnapshotVersion = 0; // the next snapshot is version 1 again
        repository.PublishSnapshot();
        repository.PublishTimestamp();

        Assert.Equal(TufFailure.Rollback, (await client.RefreshFailsAsync()).Failure);
        Assert.Equal(2, client.StoredVersion(RoleNames.Snapshot));
    }

    [Fact]
    public async Task Rollback_a_snapshot_naming_an_older_targets_version_is_refused()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        repository.PublishAll();
        await using var client = await ClientUnderTest.StartAsync(repository);
        await client.RefreshAsync();
        var targetsV1 = repository.Files["metadata/1.targets.json"];
        repository.Files["metadata/2.targets.json"] = targetsV1; // hide version 2
        repository.PublishSnapshot();
        var snapshot = SnapshotWithTargetsVersion(repository, 1);
        repository.Files[$"metadata/{repository.SnapshotVersion}.snapshot.json"] = snapshot;
        repository.PublishTimestampOver(snapshot);

        Assert.Equal(TufFailure.Rollback, (await client.RefreshFailsAsync()).Failure);
        Assert.Equal(2, client.StoredVersion(RoleNames.Targets));
    }

    [Fact]
    public async Task Rollback_a_root_that_skips_or_repeats_a_version_is_refused()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        await using var client = await ClientUnderTest.StartAsync(repository);
        var root3 = repository.BuildRoot(3).ToJson();
        repository.Files["metadata/2.root.json"] = SignedMetadata.Sign(root3, repository.Signers[RoleNames.Root]);

        Assert.Equal(TufFailure.Rollback, (await client.RefreshFailsAsync()).Failure);
        Assert.Equal(1, client.StoredVersion(RoleNames.Root));
    }

    // --- indefinite freeze --------------------------------------------------------------------

    [Theory]
    [InlineData(RoleNames.Timestamp)]
    [InlineData(RoleNames.Snapshot)]
    [InlineData(RoleNames.Targets)]
    [InlineData(RoleNames.Root)]
    public async Task Indefinite_freeze_expired_metadata_fails_the_refresh(string role)
    {
        var repository = new RepositorySimulator(Now);
        repository.Expires[role] = Now.AddSeconds(-1);
        repository.PublishRoot();
        repository.PublishAll();
        await using var client = await ClientUnderTest.StartAsync(repository);

        var error = await client.RefreshFailsAsync();

        Assert.Equal(TufFailure.Expired, error.Failure);
        if (role != RoleNames.Root)
        {
            Assert.Null(client.Stored(role));
        }
    }

    [Fact]
    public async Task Indefinite_freeze_a_mirror_replaying_the_last_good_state_fails_once_it_expires()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        await using var client = await ClientUnderTest.StartAsync(repository);
        await client.RefreshAsync();

        client.Now = Now.AddDays(8); // the repository stopped signing a week ago; the mirror serves the same files

        Assert.Equal(TufFailure.Expired, (await client.RefreshFailsAsync()).Failure);
    }

    // --- mix-and-match ------------------------------------------------------------------------

    [Fact]
    public async Task Mix_and_match_a_snapshot_that_is_not_the_one_the_timestamp_hashes_is_refused()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        await using var client = await ClientUnderTest.StartAsync(repository);
        var original = repository.Files["metadata/1.snapshot.json"];

        // The same snapshot signed again until it has the same length (ECDSA signatures vary by a byte or
        // two), so that the hash the timestamp names, not the length, is what refuses it. Same version: a
        // newer one could be longer (version 10 has a digit more) and never match; that failed full runs.
        byte[] other;
        var tries = 0;
        do
        {
            other = repository.SignSnapshotAgain();
        }
        while (other.Length != original.Length && ++tries < 1000);
        Assert.Equal(original.Length, other.Length);
        Assert.NotEqual(original, other);
        repository.Files["metadata/1.snapshot.json"] = other;

        var error = await client.RefreshFailsAsync();

        Assert.Equal(TufFailure.Mismatch, error.Failure);
        Assert.Contains("sha256", error.Message, StringComparison.Ordinal);
        Assert.Null(client.Stored(RoleNames.Snapshot));
    }

    [Fact]
    public async Task Mix_and_match_targets_metadata_of_another_version_than_the_snapshot_names_is_refused()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        repository.ConsistentSnapshot = false;
        repository.PublishRoot(); // root 2 turns consistent snapshots off
        repository.PublishAll();
        await using var client = await ClientUnderTest.StartAsync(repository);
        repository.PublishTargets(); // targets.json is now version 3; snapshot names version 2
        var snapshotWithoutHashes = SnapshotWithTargetsVersion(repository, 2, withHashes: false);
        repository.Files["metadata/snapshot.json"] = snapshotWithoutHashes;
        repository.PublishTimestampOver(snapshotWithoutHashes);

        Assert.Equal(TufFailure.Rollback, (await client.RefreshFailsAsync()).Failure);
        Assert.Null(client.Stored(RoleNames.Targets));
    }

    // --- fast-forward -------------------------------------------------------------------------

    [Fact]
    public async Task Fast_forward_after_the_timestamp_key_is_rotated_the_client_recovers_from_a_huge_version()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        await using var client = await ClientUnderTest.StartAsync(repository);
        repository.TimestampVersion = 999_999; // signed with a stolen timestamp key
        repository.PublishTimestamp();
        await client.RefreshAsync();
        Assert.Equal(1_000_000, client.StoredVersion(RoleNames.Timestamp));

        repository.Signers[RoleNames.Timestamp] = [TufSigner.GenerateEcdsa()];
        repository.PublishRoot();
        repository.TimestampVersion = 1;
        repository.PublishTimestamp();
        await client.RefreshAsync();

        Assert.Equal(2, client.StoredVersion(RoleNames.Timestamp));
    }

    [Fact]
    public async Task Fast_forward_without_a_key_rotation_the_huge_version_keeps_protecting()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        await using var client = await ClientUnderTest.StartAsync(repository);
        repository.TimestampVersion = 999_999;
        repository.PublishTimestamp();
        await client.RefreshAsync();
        repository.TimestampVersion = 1;
        repository.PublishTimestamp();

        Assert.Equal(TufFailure.Rollback, (await client.RefreshFailsAsync()).Failure);
    }

    // --- wrong software -----------------------------------------------------------------------

    [Fact]
    public async Task Wrong_software_a_delegated_role_listing_a_path_outside_its_delegation_is_not_trusted_for_it()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        repository.Delegate("targets", "content-team", ["content/*"]);
        repository.AddTarget("agent/gatehouse-agent.tar.gz", "from the content team"u8.ToArray(), role: "content-team");
        repository.PublishAll();
        await using var client = await ClientUnderTest.StartAsync(repository);

        var updater = await client.RefreshAsync();

        Assert.Null(await updater.GetTargetInfoAsync("agent/gatehouse-agent.tar.gz"));
    }

    [Fact]
    public async Task Wrong_software_another_artifact_served_under_the_requested_name_is_refused()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        var linux = repository.AddTarget("agent/linux-x64.tar.gz", "linux"u8.ToArray());
        repository.AddTarget("agent/linux-arm64.tar.gz", "arm64"u8.ToArray());
        repository.PublishAll();
        repository.ServeTarget(linux, "arm64"u8.ToArray());
        await using var client = await ClientUnderTest.StartAsync(repository);

        Assert.Equal(TufFailure.Mismatch, (await Assert.ThrowsAsync<TufException>(() => client.DownloadAsync("agent/linux-x64.tar.gz"))).Failure);
    }

    [Fact]
    public async Task Wrong_software_a_delegated_role_signed_by_its_delegators_key_instead_of_its_own_is_refused()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        repository.Delegate("targets", "content-team", ["content/*"]);
        repository.AddTarget("content/categories.json", "{}"u8.ToArray(), role: "content-team");
        repository.PublishTargets();
        repository.Signers["content-team"] = repository.Signers[RoleNames.Targets];
        repository.PublishTargets("content-team");
        repository.PublishSnapshot();
        repository.PublishTimestamp();
        await using var client = await ClientUnderTest.StartAsync(repository);

        var updater = await client.RefreshAsync();

        Assert.Equal(TufFailure.Unsigned, (await Assert.ThrowsAsync<TufException>(() => updater.GetTargetInfoAsync("content/categories.json"))).Failure);
        Assert.Null(client.Stored("content-team"));
    }

    // --- key rotation -------------------------------------------------------------------------

    [Fact]
    public async Task Key_rotation_a_new_root_signed_by_the_old_and_the_new_keys_is_followed_through_several_versions()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        await using var client = await ClientUnderTest.StartAsync(repository);
        repository.Signers[RoleNames.Targets] = [TufSigner.GenerateEcdsa()];
        for (var i = 0; i < 3; i++)
        {
            var old = repository.Signers[RoleNames.Root];
            repository.Signers[RoleNames.Root] = [TufSigner.GenerateEcdsa(), TufSigner.GenerateEcdsa()];
            repository.Thresholds[RoleNames.Root] = 2;
            repository.PublishRoot(alsoSignWith: old);
        }

        repository.PublishAll();

        await client.RefreshAsync();

        Assert.Equal(4, client.StoredVersion(RoleNames.Root));
        Assert.Equal(2, client.StoredVersion(RoleNames.Targets));
    }

    [Fact]
    public async Task Key_rotation_a_new_root_signed_only_by_the_new_keys_is_refused()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        await using var client = await ClientUnderTest.StartAsync(repository);
        repository.Signers[RoleNames.Root] = [TufSigner.GenerateEcdsa()];
        repository.PublishRoot();

        Assert.Equal(TufFailure.Unsigned, (await client.RefreshFailsAsync()).Failure);
        Assert.Equal(1, client.StoredVersion(RoleNames.Root));
    }

    [Fact]
    public async Task Key_rotation_a_new_root_not_signed_by_its_own_threshold_is_refused()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        await using var client = await ClientUnderTest.StartAsync(repository);
        var old = repository.Signers[RoleNames.Root];
        repository.Signers[RoleNames.Root] = [TufSigner.GenerateEcdsa()];
        repository.PublishRoot(signWithOnly: old);

        Assert.Equal(TufFailure.Unsigned, (await client.RefreshFailsAsync()).Failure);
        Assert.Equal(1, client.StoredVersion(RoleNames.Root));
    }

    [Fact]
    public async Task Key_rotation_each_verified_root_is_stored_before_a_later_one_fails()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        await using var client = await ClientUnderTest.StartAsync(repository);
        repository.PublishRoot();
        repository.PublishRoot();
        repository.Files["metadata/3.root.json"] = repository.Files["metadata/2.root.json"];

        Assert.Equal(TufFailure.Rollback, (await client.RefreshFailsAsync()).Failure);
        Assert.Equal(2, client.StoredVersion(RoleNames.Root));
    }

    [Fact]
    public async Task Key_rotation_the_chain_is_capped_per_refresh()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        for (var i = 0; i < 300; i++)
        {
            repository.PublishRoot();
        }

        repository.PublishAll();
        await using var client = await ClientUnderTest.StartAsync(repository);

        await client.RefreshAsync();

        Assert.Equal(257, client.StoredVersion(RoleNames.Root));
    }

    // --- threshold with duplicate keys --------------------------------------------------------

    [Fact]
    public async Task Threshold_one_signature_repeated_does_not_meet_a_threshold_of_two()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        await using var client = await ClientUnderTest.StartAsync(repository);
        repository.Signers[RoleNames.Timestamp].Add(TufSigner.GenerateEcdsa());
        repository.Thresholds[RoleNames.Timestamp] = 2;
        repository.PublishRoot();
        repository.PublishTimestamp();
        var timestamp = SignedMetadata.Parse(repository.Files["metadata/timestamp.json"]);
        var first = SignaturesOf(timestamp)[0]!;
        repository.Files["metadata/timestamp.json"] = SignedMetadata.Write(timestamp.Signed, [first.DeepClone(), first.DeepClone()]);

        Assert.Equal(TufFailure.Unsigned, (await client.RefreshFailsAsync()).Failure);
    }

    [Fact]
    public async Task Threshold_one_key_listed_under_two_key_ids_counts_once()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        await using var client = await ClientUnderTest.StartAsync(repository);
        var signer = repository.Signers[RoleNames.Timestamp][0];
        var root = repository.BuildRoot(2).ToJson();
        var alias = new string('a', 64);
        root["keys"]![alias] = signer.PublicKey.ToJson();
        root["roles"]!["timestamp"] = new JsonObject { ["keyids"] = new JsonArray(signer.KeyId, alias), ["threshold"] = 2 };
        var bytes = SignedMetadata.Sign(root, repository.Signers[RoleNames.Root]);
        repository.Files["metadata/2.root.json"] = bytes;
        repository.PublishTimestamp();
        var timestamp = SignedMetadata.Parse(repository.Files["metadata/timestamp.json"]);
        var signature = SignaturesOf(timestamp)[0]!;
        var aliased = signature.DeepClone();
        aliased["keyid"] = alias;
        repository.Files["metadata/timestamp.json"] = SignedMetadata.Write(timestamp.Signed, [signature.DeepClone(), aliased]);

        Assert.Equal(TufFailure.Unsigned, (await client.RefreshFailsAsync()).Failure);
    }

    [Fact]
    public async Task Threshold_a_role_listing_one_key_id_twice_is_malformed()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        await using var client = await ClientUnderTest.StartAsync(repository);
        var root = repository.BuildRoot(2).ToJson();
        var id = repository.Signers[RoleNames.Timestamp][0].KeyId;
        root["roles"]!["timestamp"] = new JsonObject { ["keyids"] = new JsonArray(id, id), ["threshold"] = 2 };
        repository.Files["metadata/2.root.json"] = SignedMetadata.Sign(root, repository.Signers[RoleNames.Root]);

        Assert.Equal(TufFailure.Malformed, (await client.RefreshFailsAsync()).Failure);
    }

    // --- unknown fields -----------------------------------------------------------------------

    [Fact]
    public async Task Unknown_fields_in_signed_data_verify_and_are_kept_in_stored_metadata()
    {
        var repository = new RepositorySimulator(Now);
        var extra = new JsonObject { ["x-gatehouse-note"] = new JsonObject { ["ring"] = "canary", ["ünïcode"] = "\"quoted\" \\ and\ttab" } };
        foreach (var role in new[] { RoleNames.Root, RoleNames.Timestamp, RoleNames.Snapshot, RoleNames.Targets })
        {
            repository.ExtraSignedFields[role] = extra;
        }

        repository.PublishRoot();
        repository.PublishRoot();
        repository.PublishAll();
        await using var client = await ClientUnderTest.StartAsync(repository);
        File.WriteAllBytes(Path.Combine(client.MetadataDirectory, "root.json"), repository.Files["metadata/1.root.json"]);

        await client.RefreshAsync();

        foreach (var role in new[] { RoleNames.Root, RoleNames.Timestamp, RoleNames.Snapshot, RoleNames.Targets })
        {
            var stored = SignedMetadata.Parse(client.Stored(role)!);
            Assert.Equal("canary", stored.Signed["x-gatehouse-note"]!["ring"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Unknown_fields_added_after_signing_break_the_signature()
    {
        var repository = RepositorySimulator.CreatePublished(Now);
        await using var client = await ClientUnderTest.StartAsync(repository);
        repository.PublishTimestamp();
        var timestamp = SignedMetadata.Parse(repository.Files["metadata/timestamp.json"]);
        timestamp.Signed["x-injected"] = true;
        repository.Files["metadata/timestamp.json"] = SignedMetadata.Write(timestamp.Signed, SignaturesOf(timestamp));

        Assert.Equal(TufFailure.Unsigned, (await client.RefreshFailsAsync()).Failure);
    }

    private static JsonArray SignaturesOf(SignedMetadata metadata) =>
        new([.. metadata.Signatures.Select(s => (JsonNode)new JsonObject { ["keyid"] = s.KeyId, ["sig"] = s.Value })]);

    private static byte[] SnapshotWithTargetsVersion(RepositorySimulator repository, long version, bool withHashes = true)
    {
        var targets = repository.Files[$"metadata/{version}.targets.json"];
        var meta = withHashes ? MetaFile.Describe(version, targets) : new MetaFile(version);
        var snapshot = new SnapshotMetadata(repository.SnapshotVersion, Now.AddDays(7), new Dictionary<string, MetaFile> { ["targets.json"] = meta });
        return SignedMetadata.Sign(snapshot.ToJson(), repository.Signers[RoleNames.Snapshot]);
    }
}
