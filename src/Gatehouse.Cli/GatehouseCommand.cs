using System.CommandLine;

namespace Gatehouse.Cli;

/// <summary>The root of the <c>gatehouse</c> command line: <c>gatehouse &lt;noun&gt; &lt;verb&gt;</c>.</summary>
public static class GatehouseCommand
{
    /// <summary>Parses and runs one command line; returns the process exit code.</summary>
    public static Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Gatehouse: a self-hostable zero trust exchange.");
        return root.Parse(args).InvokeAsync();
    }
}
