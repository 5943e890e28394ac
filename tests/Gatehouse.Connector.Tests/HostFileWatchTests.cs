using System.Net;
using Gatehouse.Connector.Commands;

namespace Gatehouse.Connector.Tests;

/// <summary>Runs alone: it counts the inotify instances of the whole test process.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostFileWatchCollection
{
    public const string Name = "host file watches, counted alone";
}

/// <summary>
/// No Gatehouse host watches the file system (<c>Gatehouse.Hosting.ServerHost</c>). By default an ASP.NET Core
/// host watches its current directory and every directory under it: a service started in <c>/</c> put an inotify
/// watch on each directory of the machine.
/// </summary>
[Collection(HostFileWatchCollection.Name)]
public sealed class HostFileWatchTests
{
    [Fact]
    public async Task A_portal_an_edge_a_connector_and_the_sample_app_watch_no_files()
    {
        var before = InotifyInstances();

        await using var fixture = await PrivateAccessFixture.StartAsync();
        await fixture.StartConnectorAsync();
        await using var sample = SampleApp.Create(new IPEndPoint(IPAddress.Loopback, 0));
        await sample.StartAsync();

        Assert.Equal(before, InotifyInstances());
    }

    private static int InotifyInstances() =>
        Directory.GetFiles("/proc/self/fd").Count(fd =>
        {
            try
            {
                return new FileInfo(fd).LinkTarget == "anon_inode:inotify";
            }
            catch (IOException)
            {
                return false; // closed since the listing
            }
        });
}
