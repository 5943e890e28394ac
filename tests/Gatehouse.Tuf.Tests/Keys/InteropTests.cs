using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tuf.Json;
using Gatehouse.Tuf.Keys;
using Gatehouse.Tuf.Metadata;
using Gatehouse.Tuf.Repository;
using Gatehouse.Testing;

namespace Gatehouse.Tuf.Tests.Keys;

/// <summary>
/// Canonical JSON, key IDs and both signature schemes checked against an implementation that is
/// not ours: securesystemslib, which python-tuf signs with (Debian's python3-securesystemslib;
/// <c>./test.sh</c> installs it). Agreement with ourselves alone would prove little.
/// </summary>
public sealed class InteropTests
{
    [SecuresystemslibFact]
    public async Task Metadata_signed_by_securesystemslib_verifies_here_with_the_same_canonical_bytes_and_key_ids()
    {
        var output = Path.GetTempFileName();
        try
        {
            await RunAsync("sign", output);
            var result = JsonNode.Parse(await File.ReadAllTextAsync(output))!.AsObject();
            var signed = (JsonObject)TufCanonicalJson.Parse(Encoding.UTF8.GetBytes(result["signed"]!.ToJsonString()))!;

            Assert.Equal(result["canonical"]!.GetValue<string>(), Convert.ToHexStringLower(TufCanonicalJson.Encode(signed)));
            var signatures = result["signatures"]!.AsArray();
            Assert.Equal(2, signatures.Count);
            foreach (var signature in signatures)
            {
                var keyId = signature!["keyid"]!.GetValue<string>();
                var key = TufKey.FromJson(result["keys"]![keyId], "key");
                Assert.Equal(keyId, key.ComputeKeyId());
                Assert.True(key.Verify(TufCanonicalJson.Encode(signed), Convert.FromHexString(signature["sig"]!.GetValue<string>())), $"{key.Scheme} signature of securesystemslib");
            }
        }
        finally
        {
            File.Delete(output);
        }
    }

    [SecuresystemslibTheory]
    [InlineData(TufKey.EcdsaScheme)]
    [InlineData(TufKey.RsaPssScheme)]
    public async Task Signatures_made_here_verify_in_securesystemslib(string scheme)
    {
        using var signer = scheme == TufKey.EcdsaScheme ? TufSigner.GenerateEcdsa() : TufSigner.RsaPss(RSA.Create(2048));
        var signed = new JsonObject { ["_type"] = "targets", ["note"] = "é \" \\ \t", ["n"] = 42 };
        var request = new JsonObject
        {
            ["key"] = signer.PublicKey.ToJson(),
            ["keyid"] = signer.KeyId,
            ["signed"] = signed.DeepClone(),
            ["sig"] = Convert.ToHexStringLower(signer.Sign(TufCanonicalJson.Encode(signed))),
        };
        var input = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(input, request.ToJsonString());
            await RunAsync("verify", input);

            var tampered = request.DeepClone().AsObject();
            tampered["signed"]!["n"] = 43;
            await File.WriteAllTextAsync(input, tampered.ToJsonString());
            await Assert.ThrowsAsync<InvalidOperationException>(() => RunAsync("verify", input));
        }
        finally
        {
            File.Delete(input);
        }
    }

    [SecuresystemslibFact]
    public async Task A_rotated_root_carries_signatures_securesystemslib_verifies_under_the_old_and_the_new_root_keys()
    {
        var folder = Directory.CreateTempSubdirectory("gatehouse-interop-root-").FullName;
        using var oldRoot = TufSigner.GenerateEcdsa();
        using var newRoot = TufSigner.RsaPss(RSA.Create(2048));
        using var other = TufSigner.GenerateEcdsa();
        try
        {
            var roles = new Dictionary<string, RoleKeys>(StringComparer.Ordinal)
            {
                [RoleNames.Root] = new([oldRoot.KeyId], 1),
                [RoleNames.Targets] = new([other.KeyId], 1),
                [RoleNames.Snapshot] = new([other.KeyId], 1),
                [RoleNames.Timestamp] = new([other.KeyId], 1),
            };
            var keys = new Dictionary<string, TufKey>(StringComparer.Ordinal) { [oldRoot.KeyId] = oldRoot.PublicKey, [other.KeyId] = other.PublicKey };
            var expires = DateTimeOffset.UtcNow.AddDays(30);
            expires = new DateTimeOffset(expires.Ticks - (expires.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
            var repository = TufRepository.Create(Path.Combine(folder, "repo"), new RootMetadata(1, expires, keys, roles, consistentSnapshot: true),
                new Dictionary<string, IReadOnlyList<TufSigner>> { [RoleNames.Root] = [oldRoot], [RoleNames.Targets] = [other], [RoleNames.Snapshot] = [other], [RoleNames.Timestamp] = [other] },
                _ => expires);
            repository.SignNextRoot(new RootRotation { Expires = expires, CurrentRootKeys = [oldRoot], RootKeys = [newRoot], RootThreshold = 1 });

            var rotated = SignedMetadata.Parse(await File.ReadAllBytesAsync(Path.Combine(folder, "repo", "metadata", "2.root.json")));
            Assert.Equal(new[] { oldRoot.KeyId, newRoot.KeyId }.Order(StringComparer.Ordinal), rotated.Signatures.Select(s => s.KeyId).Order(StringComparer.Ordinal));
            foreach (var (signer, signature) in new[] { oldRoot, newRoot }.Select(k => (k, rotated.Signatures.Single(s => s.KeyId == k.KeyId))))
            {
                var request = new JsonObject
                {
                    ["key"] = signer.PublicKey.ToJson(),
                    ["keyid"] = signature.KeyId,
                    ["signed"] = rotated.Signed.DeepClone(),
                    ["sig"] = signature.Value,
                };
                var input = Path.Combine(folder, "request.json");
                await File.WriteAllTextAsync(input, request.ToJsonString());
                await RunAsync("verify", input);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task RunAsync(string command, string file)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Keys", "securesystemslib_interop.py");
        using var process = Process.Start(new ProcessStartInfo(Securesystemslib.Python, [script, command, file]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().DefaultTimeout();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"securesystemslib {command} exited {process.ExitCode}: {await stderr}");
        }
    }
}
