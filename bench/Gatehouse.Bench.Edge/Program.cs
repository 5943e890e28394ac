return await Gatehouse.Bench.Edge.EdgeBenchCommand.RunAsync(args);
