using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Tunnel;

namespace Gatehouse.Bench.Edge;

/// <summary>
/// Opens many flows through one edge at once — CONNECT through the forward proxy and streams of the
/// agent tunnel — holds them all open, checks every one still carries bytes, and reports what the edge's
/// memory grew by per open flow.
/// </summary>
/// <remarks>
/// <code>
/// echo server ◄─ edge ◄─ N proxy CONNECTs (one TCP connection each)
///                     ◄─ M tunnel streams (HTTP/2, a few connections)
/// baseline RSS ─► open all (64 at a time), ping each ─► settle ─► held RSS ─► hold ─► ping each again ─► close
/// </code>
/// An edge spends two descriptors on a proxy flow and one on a tunnel stream; with this machine's
/// 20,000-descriptor limit per process, 10,000 flows fit as 4,000 CONNECTs and 6,000 tunnel streams.
/// </remarks>
internal static class FlowHoldLoad
{
    private const int OpenConcurrency = 64;

    /// <summary>
    /// The fewest flows whose memory is reported: the edge's resident memory moves by megabytes on its own (its heap
    /// grows and shrinks), which over a few flows reads as any number, negative ones included.
    /// </summary>
    private const int FewestFlowsToMeasure = 1000;

    public static async Task<int> RunAsync(BenchArguments args, CancellationToken ct)
    {
        var edge = new EdgeProcess(args.Number("edge-pid", 0));
        var proxyFlows = args.Number("proxy-flows", 0);
        var tunnelFlows = args.Number("tunnel-flows", 0);
        var holdSeconds = args.Number("hold-seconds", 10);
        using var echo = new EchoServer();
        using var tunnel = tunnelFlows > 0 ? DeviceTunnel.Create(args) : null;
        var proxy = proxyFlows > 0 ? IPEndPoint.Parse(args.Text("proxy")) : null;
        var proxyAuthorization = proxyFlows > 0 ? "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(args.Text("proxy-user"))) : null;

        var baseline = edge.ResidentBytes();
        var baselineDescriptors = edge.OpenDescriptors();
        var flows = new ConcurrentBag<Stream>();
        var openMs = new ConcurrentBag<double>();
        var errors = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var started = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, proxyFlows + tunnelFlows), new ParallelOptions { MaxDegreeOfParallelism = OpenConcurrency, CancellationToken = ct }, async (i, token) =>
        {
            var clock = Stopwatch.GetTimestamp();
            try
            {
                var stream = i < proxyFlows
                    ? await OpenThroughProxyAsync(proxy!, proxyAuthorization!, echo.Address, token)
                    : await OpenThroughTunnelAsync(tunnel!, echo.Address, token);
                await PingAsync(stream, i, token);
                openMs.Add(Stopwatch.GetElapsedTime(clock).TotalMilliseconds);
                flows.Add(stream);
            }
            catch (Exception e) when (e is IOException or SocketException or InvalidDataException or OperationCanceledException)
            {
                errors.AddOrUpdate(e.Message, 1, (_, n) => n + 1);
            }
        });
        var openSeconds = started.Elapsed.TotalSeconds;

        // Let the edge's buffers and the runtime settle before the held memory is read.
        await Task.Delay(TimeSpan.FromSeconds(3), ct);
        var held = edge.ResidentBytes();
        var heldDescriptors = edge.OpenDescriptors();
        var echoOpen = echo.Open;
        await Task.Delay(TimeSpan.FromSeconds(holdSeconds), ct);

        var alive = 0;
        await Parallel.ForEachAsync(flows, new ParallelOptions { MaxDegreeOfParallelism = OpenConcurrency, CancellationToken = ct }, async (stream, token) =>
        {
            try
            {
                await PingAsync(stream, 0, token);
                Interlocked.Increment(ref alive);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or OperationCanceledException)
            {
                errors.AddOrUpdate("after holding: " + e.Message, 1, (_, n) => n + 1);
            }
        });

        foreach (var stream in flows)
        {
            await stream.DisposeAsync();
        }

        var total = proxyFlows + tunnelFlows;
        var latencies = openMs.Order().ToArray();
        var perFlow = flows.Count >= FewestFlowsToMeasure
            ? string.Create(CultureInfo.InvariantCulture, $"{(held - baseline) / 1024.0 / flows.Count:F1}")
            : null;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
                held {flows.Count:N0}/{total:N0} flows at once ({proxyFlows:N0} proxy CONNECT, {tunnelFlows:N0} tunnel streams), opened in {openSeconds:F1} s, open+ping p50 {Latencies.Percentile(latencies, 0.50):F1} ms, p99 {Latencies.Percentile(latencies, 0.99):F1} ms
                destination saw {echoOpen:N0} connections open; after {holdSeconds} s {alive:N0} flows still answered; errors: {(errors.IsEmpty ? "none" : string.Join("; ", errors.Select(e => $"{e.Value} × {e.Key}")))}
                edge RSS {baseline / 1048576.0:F0} MiB before, {held / 1048576.0:F0} MiB holding them: {(perFlow is null ? $"too few flows to measure memory per flow (at least {FewestFlowsToMeasure:N0})" : $"{perFlow} KiB per open flow")}; descriptors {baselineDescriptors:N0} → {heldDescriptors:N0}
            """));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"edge memory per open flow KiB {perFlow ?? "unknown"}"));
        return flows.Count == total && alive == total ? 0 : 1;
    }

    private static async Task<Stream> OpenThroughProxyAsync(IPEndPoint proxy, string authorization, IPEndPoint destination, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(proxy, ct);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT {destination} HTTP/1.1\r\nHost: {destination}\r\nProxy-Authorization: {authorization}\r\n\r\n"), ct);
            var head = await ReadHeadAsync(stream, ct);
            if (!head.StartsWith("HTTP/1.1 200 ", StringComparison.Ordinal))
            {
                throw new InvalidDataException($"CONNECT refused: {head.Split("\r\n")[0]}");
            }

            return stream;
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    private static async Task<Stream> OpenThroughTunnelAsync(TunnelClient tunnel, IPEndPoint destination, CancellationToken ct)
    {
        var opened = await tunnel.OpenAsync(destination.Address.ToString(), destination.Port, ct: ct);
        return opened.Stream ?? throw new InvalidDataException($"tunnel flow refused: {opened.Status} {opened.Reason}");
    }

    private static async Task<string> ReadHeadAsync(Stream stream, CancellationToken ct)
    {
        // The destination speaks only after the client: nothing follows the head yet, so reading past it loses nothing.
        var buffer = new byte[1024];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), ct);
            if (read == 0)
            {
                break;
            }

            length += read;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0)
            {
                break;
            }
        }

        return Encoding.ASCII.GetString(buffer, 0, length);
    }

    private static async Task PingAsync(Stream stream, int flow, CancellationToken ct)
    {
        var ping = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"ping {flow:D8}\n"));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        await stream.WriteAsync(ping, timeout.Token);
        await stream.FlushAsync(timeout.Token);
        var answer = new byte[ping.Length];
        await stream.ReadExactlyAsync(answer, timeout.Token);
        if (!answer.AsSpan().SequenceEqual(ping))
        {
            throw new InvalidDataException("the echo came back wrong");
        }
    }
}
