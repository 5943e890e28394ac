using Gatehouse.Node.Credentials;

namespace Gatehouse.Agent;

/// <summary>Where the agent keeps its state and sockets.</summary>
public static class AgentPaths
{
    /// <summary>The state directory of an installed agent.</summary>
    public const string DefaultStateDirectory = "/var/lib/gatehouse/agent";

    /// <summary>The local API socket of an installed agent, which <c>gatehouse</c> talks to.</summary>
    public const string DefaultSocket = "/run/gatehouse/agent.sock";

    /// <summary>The environment variable that points <c>gatehouse</c> and the service at another socket.</summary>
    public const string SocketVariable = "GATEHOUSE_AGENT_SOCKET";

    /// <summary>The device's credentials and last-known-good config (readable by the agent's user only).</summary>
    /// <param name="stateDirectory">The agent's state directory.</param>
    public static NodeCredentialStore DeviceStore(string stateDirectory) => new(Path.Combine(stateDirectory, "device"));

    /// <summary>Where the data plane answers the service.</summary>
    /// <param name="stateDirectory">The agent's state directory.</param>
    public static string DataPlaneSocket(string stateDirectory) => Path.Combine(stateDirectory, "run", "dataplane.sock");

    /// <summary>Present while the user has disabled the agent, so that the data plane starts disabled after a restart.</summary>
    /// <param name="stateDirectory">The agent's state directory.</param>
    public static string DisabledMarker(string stateDirectory) => Path.Combine(stateDirectory, "disabled");

    /// <summary>Held by the running service, so that a second one cannot run on the same state; it holds that service's pid.</summary>
    /// <param name="stateDirectory">The agent's state directory.</param>
    public static string ServiceLock(string stateDirectory) => Path.Combine(stateDirectory, "service.lock");
}
