namespace Gatehouse.Portal;

/// <summary>Builds and runs the portal web application.</summary>
public static class PortalHost
{
    /// <summary>Runs the portal until it is stopped; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var app = WebApplication.CreateBuilder(args).Build();
        app.MapGet("/healthz", () => "ok");
        await app.RunAsync();
        return 0;
    }
}
