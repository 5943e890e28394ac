namespace Gatehouse.Testing.Tests;

public sealed class RepositoryRootTests
{
    [Fact]
    public void Repository_root_is_the_folder_with_global_json_and_the_solution()
    {
        var root = RepositoryRoot.Find();

        Assert.True(File.Exists(Path.Combine(root, "global.json")));
        Assert.True(File.Exists(Path.Combine(root, "Gatehouse.slnx")));
    }

    [Fact]
    public void Folder_outside_any_checkout_is_reported_clearly()
    {
        var error = Assert.Throws<DirectoryNotFoundException>(() => RepositoryRoot.Find("/"));

        Assert.Contains("global.json", error.Message, StringComparison.Ordinal);
    }
}
