using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Tunnel;
using Gatehouse.Wire.Http;

namespace Gatehouse.Bench.Edge;

/// <summary>
/// How long a new flow takes to its first response byte: N short flows one after another (open, send a small
/// HTTP request, read the first byte of the answer, close), over three paths in turn, as a device would open them.
/// </summary>
/// <remarks>
/// <code>
/// direct    TCP connect to --direct ─────────────────────────────────────────────► app
/// stream    tunnel POST (no relay offered) ─► edge ─► connector link stream ─► connector ─► app
/// relayed   tunnel POST (relay offered) ─► edge ─► connector: ticket ─► second connection to the edge,
///           mutual TLS 1.3 with the connector through it ─► connector ─► app
/// </code>
/// Each tunnel client's HTTP/2 connection to the edge is made during the warm-up and kept, as the agent keeps its own.
/// </remarks>
internal static class FirstByteLatency
{
    private const int WarmUpFlows = 20;

    public static async Task<int> RunAsync(BenchArguments args, CancellationToken ct)
    {
        var (appHost, appPort) = Target.TryParseAuthority(args.Text("app"), defaultPort: 0, out var app)
            ? (app.Host, app.Port)
            : throw new ArgumentException($"--app: {Target.AuthorityError(args.Text("app"), portRequired: true)}");
        var direct = IPEndPoint.Parse(args.Text("direct"));
        var flows = args.Number("flows", 200);
        var request = Encoding.ASCII.GetBytes($"GET {args.OptionalText("path") ?? "/"} HTTP/1.1\r\nHost: {args.Text("app")}\r\nConnection: close\r\n\r\n");
        using var streamed = DeviceTunnel.Create(args, offerRelay: false);
        using var relayed = DeviceTunnel.Create(args, offerRelay: true);
        var all = new (string Name, Func<CancellationToken, Task<Stream>> Open)[]
        {
            ("direct", token => ConnectAsync(direct, token)),
            ("stream", token => OpenAsync(streamed, appHost, appPort, relayedExpected: false, token)),
            ("relayed", token => OpenAsync(relayed, appHost, appPort, relayedExpected: true, token)),
        };
        var wanted = (args.OptionalText("paths") ?? "direct,stream,relayed").Split(',');
        var paths = all.Where(p => wanted.Contains(p.Name, StringComparer.Ordinal)).ToArray();
        if (paths.Length != wanted.Length)
        {
            throw new ArgumentException($"--paths: \"{args.OptionalText("paths")}\" names a path that is not direct, stream or relayed");
        }

        var measured = paths.ToDictionary(p => p.Name, _ => new List<double>(flows), StringComparer.Ordinal);
        try
        {
            // Not counted: the tunnel's connection, the connector's first flows, and .NET compiling the paths.
            foreach (var (_, open) in paths)
            {
                for (var i = 0; i < WarmUpFlows; i++)
                {
                    await FirstByteAsync(open, request, ct);
                }
            }

            for (var i = 0; i < flows; i++)
            {
                foreach (var (name, open) in paths)
                {
                    measured[name].Add(await FirstByteAsync(open, request, ct));
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException or SocketException or OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"a flow failed: {e.Message}");
            return 1;
        }

        Console.WriteLine($"time to the first response byte of a new flow, {flows} flows per path, the paths in turn");
        foreach (var (name, _) in paths)
        {
            var sorted = measured[name].Order().ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {name,-10} p50 {Latencies.Percentile(sorted, 0.50),7:F2} ms   p90 {Latencies.Percentile(sorted, 0.90),7:F2} ms   p99 {Latencies.Percentile(sorted, 0.99),7:F2} ms"));
        }

        return 0;
    }

    /// <summary>Milliseconds from opening a flow to the first byte of the answer to <paramref name="request"/>.</summary>
    private static async Task<double> FirstByteAsync(Func<CancellationToken, Task<Stream>> open, byte[] request, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var started = Stopwatch.GetTimestamp();
        await using var flow = await open(timeout.Token);
        await flow.WriteAsync(request, timeout.Token);
        await flow.FlushAsync(timeout.Token);
        var first = new byte[1];
        if (await flow.ReadAsync(first, timeout.Token) == 0)
        {
            throw new InvalidDataException("the flow ended before the app answered");
        }

        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    private static async Task<Stream> ConnectAsync(IPEndPoint app, CancellationToken ct)
    {
        var socket = new Socket(app.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(app, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<Stream> OpenAsync(TunnelClient tunnel, string host, int port, bool relayedExpected, CancellationToken ct)
    {
        var opened = await tunnel.OpenAsync(host, port, ct: ct);
        var stream = opened.Stream ?? throw new InvalidDataException($"tunnel flow refused: {opened.Status} {opened.Reason}");
        if (stream is RelayedStream != relayedExpected)
        {
            await stream.DisposeAsync();
            throw new InvalidDataException(relayedExpected
                ? "the edge carried the flow on the stream: is the edge run with --no-private-relay, or is HOST:PORT not a private app?"
                : "the edge relayed a flow that did not offer it");
        }

        return stream;
    }
}
