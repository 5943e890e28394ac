return await Gatehouse.Connector.Commands.ConnectorCommand.RunAsync(args);
