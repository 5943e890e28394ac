return await Gatehouse.Agent.Commands.AgentCommand.RunAsync(args);
