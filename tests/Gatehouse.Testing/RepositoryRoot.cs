namespace Gatehouse.Testing;

/// <summary>Finds the checkout that the running tests were built from.</summary>
public static class RepositoryRoot
{
    /// <summary>The file that marks the root of the repository.</summary>
    public const string Marker = "global.json";

    /// <summary>
    /// Walks up from <see cref="AppContext.BaseDirectory"/> to the folder holding
    /// <c>global.json</c> and returns its full path.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">No folder above the test binaries holds <c>global.json</c>.</exception>
    public static string Find() => Find(AppContext.BaseDirectory);

    /// <summary>Walks up from <paramref name="start"/> to the folder holding <c>global.json</c>.</summary>
    /// <exception cref="DirectoryNotFoundException">No folder above <paramref name="start"/> holds <c>global.json</c>.</exception>
    public static string Find(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, Marker)))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No folder at or above '{start}' holds {Marker}; run the tests from inside a Gatehouse checkout.");
    }
}
