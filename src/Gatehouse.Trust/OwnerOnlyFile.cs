using System.Security.Cryptography;

namespace Gatehouse.Trust;

/// <summary>Files that hold secrets or trusted state: readable by their owner only, replaced atomically.</summary>
public static class OwnerOnlyFile
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Makes <paramref name="path"/> enterable by its owner only (mode 0700), creating it and any missing parents that way.</summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        // Directory.CreateDirectory(path, mode) gives missing parents the umask's mode, not this one.
        var missing = new Stack<string>();
        for (var directory = Path.GetFullPath(path); !Directory.Exists(directory); directory = Path.GetDirectoryName(directory)!)
        {
            missing.Push(directory);
        }

        foreach (var directory in missing)
        {
            Directory.CreateDirectory(directory, OwnerDirectory);
        }

        File.SetUnixFileMode(path, OwnerDirectory);
    }

    /// <summary>Makes an existing file readable and writable by its owner only (mode 0600).</summary>
    public static void Restrict(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, OwnerReadWrite);
        }
    }

    /// <summary>Writes <paramref name="text"/> (PEM, JSON) as UTF-8, as <see cref="WriteAtomically(string, ReadOnlySpan{byte}, bool, Action{string}?)"/> writes bytes.</summary>
    public static void WriteAtomically(string path, string text, bool overwrite) =>
        WriteAtomically(path, System.Text.Encoding.UTF8.GetBytes(text), overwrite);

    /// <summary>
    /// Writes <paramref name="contents"/> to <paramref name="path"/> so that a crash leaves either the
    /// old file or the new one: a temporary file in the same directory (mode 0600), flushed to disk,
    /// then renamed into place. A directory that does not exist is created with mode 0700.
    /// </summary>
    /// <param name="path">The file to write.</param>
    /// <param name="contents">The bytes.</param>
    /// <param name="overwrite">Whether to replace an existing file; when not, an existing file makes this throw <see cref="IOException"/>.</param>
    /// <param name="beforeRename">Runs before the rename; tests use it to simulate a crash.</param>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> contents, bool overwrite, Action<string>? beforeRename = null)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                Directory.CreateDirectory(directory, OwnerDirectory);
            }
        }

        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = OwnerReadWrite;
            }

            using (var stream = new FileStream(temp, options))
            {
                stream.Write(contents);
                stream.Flush(flushToDisk: true);
            }

            beforeRename?.Invoke(temp);
            File.Move(temp, path, overwrite);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
