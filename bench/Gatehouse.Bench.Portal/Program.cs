return await Gatehouse.Bench.Portal.PortalBenchmark.RunAsync(args);
