using Gatehouse.Bench.Fleet;

return FleetBench.Run(args);
