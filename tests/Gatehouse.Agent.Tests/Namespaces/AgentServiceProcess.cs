using System.Diagnostics;
using System.Net.Sockets;
using Gatehouse.Testing;
using Gatehouse.Testing.Namespaces;
using Gatehouse.Wire.Agent;

namespace Gatehouse.Agent.Tests.Namespaces;

/// <summary>
/// A <c>gatehouse-agent service</c> process (with the data plane it starts) inside a namespace, as root or
/// systemd runs it: what it writes is kept for failure messages, its status is read over its local API, and
/// it is stopped with SIGTERM.
/// </summary>
internal sealed class AgentServiceProcess : IAsyncDisposable
{
    private readonly System.Text.StringBuilder _log = new();
    private readonly Process _process;

    private AgentServiceProcess(Process process, string socket)
    {
        _process = process;
        Socket = socket;
    }

    /// <summary>The service's local API socket.</summary>
    public string Socket { get; }

    /// <summary>What the service and its data plane wrote.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts <c>gatehouse-agent service --state-dir STATE --socket SOCKET OPTIONS…</c> in <paramref name="ns"/>.</summary>
    public static AgentServiceProcess Start(NetworkNamespace ns, string stateDirectory, string socket, params string[] options)
    {
        var directory = AppContext.BaseDirectory;
        var process = ns.Start(
        [
            "dotnet", "exec", "--runtimeconfig", Path.Combine(directory, "Gatehouse.Agent.Tests.runtimeconfig.json"),
            "--depsfile", Path.Combine(directory, "Gatehouse.Agent.Tests.deps.json"), Path.Combine(directory, "gatehouse-agent.dll"),
            "service", "--state-dir", stateDirectory, "--socket", socket, .. options,
        ]);
        var service = new AgentServiceProcess(process, socket);
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>The agent's status, as `gatehouse status` reads it; null while the service does not answer.</summary>
    public async Task<AgentStatus?> StatusAsync()
    {
        try
        {
            return (await AgentLocalApi.CallAsync(Socket, new AgentRequest(AgentCommands.Status)).DefaultTimeout()).Status;
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return null;
        }
    }

    /// <summary>Stops the service as systemd does (SIGTERM, then a kill after 15 s): it stops its data plane, which removes its table.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await term.WaitForExitAsync();
        }

        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await _process.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }
}
