using System.Net;
using System.Net.Sockets;
using Gatehouse.Tunnel;

namespace Gatehouse.Bench.Edge;

/// <summary>
/// What the agent's data plane does for one intercepted connection, reduced to a port forward: every TCP
/// connection accepted on <c>--listen</c> becomes one tunnel stream to <c>--target</c> through the edge.
/// </summary>
internal static class TunnelForwarder
{
    private const int CopyBufferBytes = 256 * 1024;

    public static async Task<int> RunAsync(BenchArguments args, CancellationToken ct)
    {
        var listen = IPEndPoint.Parse(args.Text("listen"));
        var target = IPEndPoint.Parse(args.Text("target"));
        var form = args.OptionalText("form") switch
        {
            null or "post" => TunnelFlowForm.Post,
            "connect" => TunnelFlowForm.ExtendedConnect,
            var other => throw new ArgumentException($"--form: \"{other}\" is neither post nor connect"),
        };
        using var tunnel = DeviceTunnel.Create(args);
        using var listener = new Socket(listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(listen);
        listener.Listen(1024);
        Console.WriteLine($"forwarding {listen} → tunnel {args.Text("edge")} → {target}");
        try
        {
            while (true)
            {
                var client = await listener.AcceptAsync(ct);
                client.NoDelay = true;
                _ = ForwardAsync(client, tunnel, target, form, ct);
            }
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
    }

    private static async Task CopyDownAsync(Stream remote, Socket client, Stream local, CancellationToken ct)
    {
        await remote.CopyToAsync(local, CopyBufferBytes, ct);
        client.Shutdown(SocketShutdown.Send);
    }

    private static async Task ForwardAsync(Socket client, TunnelClient tunnel, IPEndPoint target, TunnelFlowForm form, CancellationToken ct)
    {
        await using var local = new NetworkStream(client, ownsSocket: true);
        var opened = await tunnel.OpenAsync(target.Address.ToString(), target.Port, form: form, ct: ct);
        if (!opened.IsOpen)
        {
            await Console.Error.WriteLineAsync($"flow refused: {opened.Status} {opened.Reason} (rule {opened.Rule}, reference {opened.Reference})");
            return;
        }

        await using var remote = opened.Stream!;
        try
        {
            var down = CopyDownAsync(remote, client, local, ct);
            await local.CopyToAsync(remote, CopyBufferBytes, ct);
            if (remote is HalfCloseStream halfClose)
            {
                halfClose.CompleteWrites();
            }
            else
            {
                // An extended CONNECT stream has no half-close: the client's end ends the flow, or a kept-alive
                // destination would hold it open.
                await remote.DisposeAsync();
            }

            await down;
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The application or the edge ended the flow.
        }
    }
}
