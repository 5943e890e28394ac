return await Gatehouse.Tuf.Program.TufCommand.RunAsync(args, Console.Out, Console.Error);
