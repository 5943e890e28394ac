return await Gatehouse.Portal.PortalHost.RunAsync(args);
