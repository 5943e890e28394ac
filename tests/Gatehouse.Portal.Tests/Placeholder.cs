namespace Gatehouse.Portal.Tests;
