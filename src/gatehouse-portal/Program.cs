return await Gatehouse.Portal.Hosting.PortalHost.RunAsync(args);
