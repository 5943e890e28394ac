namespace Gatehouse.Architecture.Tests;
