using System.Globalization;

namespace Gatehouse.Agent.Service;

/// <summary>
/// The agent service's claim on its state directory: an exclusive lock on <see cref="AgentPaths.ServiceLock"/>, held
/// while the service runs and released by the kernel when its process ends, however it ends; the holder's pid is in
/// <c>service.pid</c> beside it (.NET cannot read a file another process has locked). Two services on one state would
/// run two data planes on one enrollment, one content trial and one proxy port.
/// </summary>
internal sealed class StateDirectoryLock : IDisposable
{
    private readonly FileStream _file;

    private StateDirectoryLock(FileStream file) => _file = file;

    /// <summary>Takes the lock and writes this process's id beside it.</summary>
    /// <exception cref="IOException">Another service holds it; the message names its pid.</exception>
    public static StateDirectoryLock Take(string stateDirectory)
    {
        var path = AgentPaths.ServiceLock(stateDirectory);
        FileStream file;
        try
        {
            // FileShare.None is an exclusive flock(2) on Linux, and another open description of the file is refused it.
            file = new FileStream(path, new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None });
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            var holder = HolderOf(stateDirectory) is { } pid ? $" (pid {pid})" : string.Empty;
            throw new IOException($"another gatehouse-agent service{holder} runs on {stateDirectory}; stop it first (systemctl stop gatehouse-agent), or give this one a --state-dir of its own", e);
        }

        try
        {
            File.WriteAllText(PidFile(stateDirectory), Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        }
        catch
        {
            file.Dispose();
            throw;
        }

        return new StateDirectoryLock(file);
    }

    /// <summary>Releases the lock; the files stay, with the pid of the last service that held it.</summary>
    public void Dispose() => _file.Dispose();

    private static string PidFile(string stateDirectory) => Path.Combine(stateDirectory, "service.pid");

    private static string? HolderOf(string stateDirectory)
    {
        try
        {
            var text = File.ReadAllText(PidFile(stateDirectory)).Trim();
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? text : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
