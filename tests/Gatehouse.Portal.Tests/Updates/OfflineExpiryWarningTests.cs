using Gatehouse.Portal.Hosting;
using Gatehouse.Portal.Updates;
using Gatehouse.Testing;

namespace Gatehouse.Portal.Tests.Updates;

/// <summary>The portal cannot renew the roles signed offline; it says so before they expire, and how to renew them.</summary>
public sealed class OfflineExpiryWarningTests : IDisposable
{
    private const int ExpiringEvent = 1606;
    private readonly string _data = Directory.CreateTempSubdirectory("gatehouse-expiry-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Fact]
    public async Task Offline_roles_near_their_expiry_are_warned_of_once_a_day_with_the_command_that_renews_each()
    {
        // Nothing in the portal said a word before root expired and every agent refused the repository.
        var clock = new MovableClock();
        var logger = new ListLogger<UpdateRepository>();
        var updates = new UpdateRepository(new PortalOptions { DataDirectory = _data }, clock, logger);
        updates.EnsureCreated();
        int Warnings() => logger.Entries.Count(e => e.EventId == ExpiringEvent);

        await updates.RefreshAsync(CancellationToken.None);
        Assert.Equal(0, Warnings()); // a year ahead

        clock.Advance(TimeSpan.FromDays(340));
        await updates.RefreshAsync(CancellationToken.None);
        var warned = logger.Entries.Where(e => e.EventId == ExpiringEvent).Select(e => e.Message).ToList();
        Assert.Equal(3, warned.Count);
        Assert.Contains(warned, m => m.Contains("root role", StringComparison.Ordinal) && m.Contains("gatehouse release root sign --repo ", StringComparison.Ordinal));
        Assert.Contains(warned, m => m.Contains("targets role", StringComparison.Ordinal) && m.Contains("gatehouse release renew --repo ", StringComparison.Ordinal));
        Assert.Contains(warned, m => m.Contains("releases role", StringComparison.Ordinal) && m.Contains("--role releases", StringComparison.Ordinal));

        await updates.RefreshAsync(CancellationToken.None);
        Assert.Equal(3, Warnings()); // once a day, not at every evaluation

        clock.Advance(TimeSpan.FromDays(1));
        await updates.RefreshAsync(CancellationToken.None);
        Assert.Equal(6, Warnings());
    }
}
