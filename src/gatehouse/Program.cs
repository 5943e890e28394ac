return await Gatehouse.Cli.GatehouseCommand.RunAsync(args);
