return await Gatehouse.Edge.Commands.EdgeCommand.RunAsync(args);
