namespace Gatehouse.Cli.Tests;
