namespace Gatehouse.Edge.Commands;

/// <summary>The exit codes of <c>gatehouse-edge</c>, which scripts can rely on.</summary>
public static class EdgeExitCodes
{
    /// <summary>The command did what it was asked (for <c>run</c>: it ran and stopped when told to).</summary>
    public const int Ok = 0;

    /// <summary>The command failed: the portal could not be reached, its answer failed the checks, the state directory is unreadable.</summary>
    public const int Failed = 1;

    /// <summary>The command line is wrong.</summary>
    public const int Usage = 2;

    /// <summary>Refused: the portal refused the enrollment (with its reason), or <c>run</c> found no enrollment.</summary>
    public const int Refused = 3;
}
