namespace Gatehouse.Bench.Edge;

/// <summary>
/// <c>gatehouse-bench-edge forward|hold|first-byte --name value …</c>: the client side of <c>bench/edge.sh</c> and
/// <c>bench/connector.sh</c>.
/// </summary>
internal static class EdgeBenchCommand
{
    private const string Usage = """
        usage:
          gatehouse-bench-edge forward --listen HOST:PORT --edge HOST:PORT --cert PEM --key PEM --ca PEM --target HOST:PORT [--form post|connect]
          gatehouse-bench-edge hold --edge-pid PID [--proxy HOST:PORT --proxy-user EMAIL:PASSWORD --proxy-flows N]
                                    [--edge HOST:PORT --cert PEM --key PEM --ca PEM --tunnel-flows N] [--hold-seconds S]
          gatehouse-bench-edge first-byte --edge HOST:PORT --cert PEM --key PEM --ca PEM --app NAME:PORT --direct IP:PORT
                                    [--path /small] [--flows N] [--paths direct,stream,relayed]
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        try
        {
            var options = new BenchArguments(args.Skip(1));
            return args.FirstOrDefault() switch
            {
                "forward" => await TunnelForwarder.RunAsync(options, stop.Token),
                "hold" => await FlowHoldLoad.RunAsync(options, stop.Token),
                "first-byte" => await FirstByteLatency.RunAsync(options, stop.Token),
                _ => Fail(Usage),
            };
        }
        catch (ArgumentException e)
        {
            return Fail($"error: {e.Message}\n{Usage}");
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 2;
    }
}
