using System.Net;
using Gatehouse.Agent.Updates;
using Gatehouse.Content.Channels;

namespace Gatehouse.Agent.Tests.Updates;

public sealed class BypassMatcherTests
{
    private static readonly BypassMatcher Matcher = new(new BypassList(
    [
        new BypassEntry("*.teams.microsoft.com", null, [3478, 3479], "Teams media"),
        new BypassEntry("updates.example", null, [], "OS updates"),
        new BypassEntry(null, IPNetwork.Parse("52.112.0.0/14"), [], "Teams relays"),
    ]), "42");

    [Theory]
    [InlineData("a.teams.microsoft.com", 3478, "Teams media")]
    [InlineData("TEAMS.microsoft.com", 3479, "Teams media")]
    [InlineData("a.teams.microsoft.com", 443, null)]
    [InlineData("evilteams.microsoft.com", 3478, null)]
    [InlineData("updates.example", 80, "OS updates")]
    [InlineData("x.updates.example", 80, null)]
    [InlineData("52.113.1.1", 443, "Teams relays")]
    [InlineData("52.116.0.1", 443, null)]
    public void Only_listed_destinations_and_ports_go_direct(string host, int port, string? note)
    {
        Assert.Equal(note, Matcher.Match(host, port));
    }
}
