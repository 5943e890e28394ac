using System.Text.Json;

namespace Gatehouse.Cli.Connection;

/// <summary>
/// Reads and writes the CLI config file. It holds a credential, so it is readable by its owner
/// only (0600, in a 0700 folder) and replaced atomically: a crash never leaves half a file.
/// </summary>
internal sealed class CliConfigStore(string path)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Where the file lives.</summary>
    public string Path { get; } = path;

    /// <summary><c>$GATEHOUSE_CLI_CONFIG</c>, else <c>~/.config/gatehouse/cli.json</c>.</summary>
    public static CliConfigStore For(CliEnvironment environment)
    {
        var path = environment.Variable("GATEHOUSE_CLI_CONFIG");
        if (path is null)
        {
            var configHome = environment.Variable("XDG_CONFIG_HOME")
                ?? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
            path = System.IO.Path.Combine(configHome, "gatehouse", "cli.json");
        }
        return new CliConfigStore(System.IO.Path.GetFullPath(path));
    }

    /// <summary>The stored config, or an empty one when there is no file yet.</summary>
    public CliConfig Load()
    {
        if (!File.Exists(Path))
        {
            return new CliConfig();
        }
        try
        {
            return JsonSerializer.Deserialize<CliConfig>(File.ReadAllText(Path), Json) ?? new CliConfig();
        }
        catch (JsonException e)
        {
            throw new CliException(ExitCodes.BadInput, $"config file {Path} is not valid JSON: {e.Message}", inner: e);
        }
    }

    /// <summary>Replaces the file: written beside it with mode 0600, then renamed over it.</summary>
    public void Save(CliConfig config)
    {
        var folder = System.IO.Path.GetDirectoryName(Path)!;
        if (!Directory.Exists(folder))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(folder);
            }
            else
            {
                Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        var temporary = $"{Path}.{Environment.ProcessId}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            // Created with the final mode: the secret is never readable by others, not even briefly.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        try
        {
            using (var stream = new FileStream(temporary, options))
            {
                JsonSerializer.Serialize(stream, config, Json);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, Path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
