namespace Gatehouse.Observability.Tests;
