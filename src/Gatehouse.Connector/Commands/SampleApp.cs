using System.Net;
using Gatehouse.Hosting;

namespace Gatehouse.Connector.Commands;

/// <summary>A one-page web app that says who reached it and by which name: the private app of the local demo.</summary>
internal static class SampleApp
{
    public static WebApplication Create(IPEndPoint endpoint)
    {
        var builder = ServerHost.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(endpoint));
        var app = builder.Build();
        app.MapGet("/", (HttpContext context) => Results.Text(
            $"Hello from the Gatehouse sample private app. You reached it as {context.Request.Host} from {context.Connection.RemoteIpAddress}.\n"));
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        return app;
    }
}
