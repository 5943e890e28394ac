namespace Gatehouse.Trust.Tests;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class OwnerOnlyFileTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private readonly string _root = Directory.CreateTempSubdirectory("gatehouse-owner-only-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_directory_and_every_parent_it_creates_are_enterable_by_the_owner_only()
    {
        var leaf = Path.Combine(_root, "a", "b", "c");

        OwnerOnlyFile.CreateDirectory(leaf);

        Assert.All([Path.Combine(_root, "a"), Path.Combine(_root, "a", "b"), leaf], directory => Assert.Equal(OwnerOnly, File.GetUnixFileMode(directory)));
    }

    [Fact]
    public void An_existing_directory_is_narrowed_and_its_parents_are_left_as_they_are()
    {
        var existing = Directory.CreateDirectory(Path.Combine(_root, "open"), OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute).FullName;
        var before = File.GetUnixFileMode(_root);

        OwnerOnlyFile.CreateDirectory(existing);

        Assert.Equal(OwnerOnly, File.GetUnixFileMode(existing));
        Assert.Equal(before, File.GetUnixFileMode(_root));
    }

    [Fact]
    public void Restrict_leaves_a_file_to_its_owner()
    {
        var file = Path.Combine(_root, "secret");
        File.WriteAllText(file, "x");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        OwnerOnlyFile.Restrict(file);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
    }
}
