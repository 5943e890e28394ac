using Gatehouse.Tuf.Metadata;

namespace Gatehouse.Tuf.Tests.Metadata;

public sealed class PathPatternTests
{
    [Theory]
    [InlineData("content/categories.json", "content/*", true)]
    [InlineData("content/deep/categories.json", "content/*", false)]
    [InlineData("content/deep/categories.json", "content/*/*.json", true)]
    [InlineData("agent/1.4.0/a.tar.gz", "agent/1.?.0/*", true)]
    [InlineData("agent/1.10.0/a.tar.gz", "agent/1.?.0/*", false)]
    [InlineData("file-a.txt", "file-[ab].txt", true)]
    [InlineData("file-c.txt", "file-[ab].txt", false)]
    [InlineData("file-c.txt", "file-[!ab].txt", true)]
    [InlineData("file-5.txt", "file-[0-9].txt", true)]
    [InlineData("a", "*", true)]
    [InlineData("", "*", true)]
    [InlineData("a/b", "*", false)]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "*a*a*a*a*a*a*a*a*a*a*a*c", false)]
    public void Star_never_crosses_a_slash_and_globs_match_per_segment(string path, string pattern, bool matches)
    {
        Assert.Equal(matches, PathPattern.Matches(path, pattern));
    }

    [Fact]
    public void Hash_prefix_delegations_cover_paths_whose_sha256_starts_with_a_prefix()
    {
        // sha256("content/a.json") starts with 5; a role for prefixes 0-7 covers it, one for 8-f does not.
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("content/a.json"u8));
        var low = new DelegatedRole("low", new RoleKeys(["k"], 1), false, null, ["0", "1", "2", "3", "4", "5", "6", "7"]);
        var high = new DelegatedRole("high", new RoleKeys(["k"], 1), false, null, ["8", "9", "a", "b", "c", "d", "e", "f"]);

        Assert.Equal(hash[0] < '8', low.Covers("content/a.json"));
        Assert.Equal(hash[0] >= '8', high.Covers("content/a.json"));
    }
}
