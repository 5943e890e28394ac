namespace Gatehouse.Trust.Tests;
