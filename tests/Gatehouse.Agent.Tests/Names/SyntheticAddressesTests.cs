using System.Net;
using Gatehouse.Agent.Names;
using Gatehouse.Testing;

namespace Gatehouse.Agent.Tests.Names;

public sealed class SyntheticAddressesTests
{
    private static readonly IPNetwork Range = IPNetwork.Parse("100.64.0.0/16");

    [Fact]
    public void A_name_keeps_its_address_and_the_address_maps_back_to_the_name()
    {
        var map = new SyntheticAddresses(Range);
        var wiki = map.AddressFor("wiki.corp.test")!;
        var git = map.AddressFor("git.corp.test")!;

        Assert.True(Range.Contains(wiki));
        Assert.NotEqual(wiki, git);
        Assert.Equal(wiki, map.AddressFor("wiki.corp.test"));
        Assert.Equal("wiki.corp.test", map.NameOf(wiki));
        Assert.Equal("git.corp.test", map.NameOf(git));
        Assert.Null(map.NameOf(IPAddress.Parse("100.64.200.200")));
        Assert.Null(map.NameOf(IPAddress.Parse("10.0.0.1")));
    }

    [Fact]
    public void Addresses_ending_in_0_or_255_are_never_handed_out()
    {
        var map = new SyntheticAddresses(IPNetwork.Parse("100.64.0.0/22"), capacity: 10_000);
        var given = Enumerable.Range(0, map.Capacity).Select(i => map.AddressFor($"app{i}.corp.test")!).ToList();

        Assert.Equal(4 * 254, map.Capacity);
        Assert.Equal(given.Count, given.Distinct().Count());
        Assert.DoesNotContain(given, a => a.GetAddressBytes()[3] is 0 or 255);
    }

    [Fact]
    public void When_full_an_address_goes_to_a_new_name_only_after_its_hold_time_and_never_while_held()
    {
        var clock = new MovableClock();
        var map = new SyntheticAddresses(Range, capacity: 2, holdTime: TimeSpan.FromMinutes(10), time: clock);
        var a = map.AddressFor("a.corp.test")!;
        clock.Advance(TimeSpan.FromMinutes(1));
        var b = map.AddressFor("b.corp.test")!;

        // Full, and both addresses were used within the hold time: the new name gets none.
        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Null(map.AddressFor("c.corp.test"));
        Assert.Equal("a.corp.test", map.NameOf(a));

        // A flow to a's address counts as a use: b is now the least recently used, still held for a minute.
        clock.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal("a.corp.test", map.NameOf(a));
        Assert.Null(map.AddressFor("c.corp.test"));
        clock.Advance(TimeSpan.FromMinutes(1));
        var c = map.AddressFor("c.corp.test");

        Assert.Equal(b, c);
        Assert.Equal("c.corp.test", map.NameOf(b));
        Assert.Equal(a, map.AddressFor("a.corp.test"));
        Assert.Equal(2, map.Count);
    }

    [Fact]
    public void The_first_free_range_from_100_64_to_100_83_is_chosen()
    {
        Assert.Equal(Range, SyntheticRange.Choose([IPNetwork.Parse("0.0.0.0/0"), IPNetwork.Parse("10.0.0.0/8")]));
        Assert.Equal(IPNetwork.Parse("100.65.0.0/16"), SyntheticRange.Choose([IPNetwork.Parse("100.64.0.0/16")]));
        Assert.Equal(IPNetwork.Parse("100.65.0.0/16"), SyntheticRange.Choose([IPNetwork.Parse("100.64.3.4/32")]));
        Assert.Equal(IPNetwork.Parse("100.66.0.0/16"), SyntheticRange.Choose([IPNetwork.Parse("100.64.0.0/15")]));
        Assert.Null(SyntheticRange.Choose([IPNetwork.Parse("100.64.0.0/10")]));
    }

    [Fact]
    public void The_space_moves_to_the_next_free_range_when_the_host_takes_its_range_and_says_so_in_the_status()
    {
        var host = new List<IPNetwork> { IPNetwork.Parse("10.0.0.0/8") };
        var state = new State.AgentState(Guid.NewGuid(), Guid.NewGuid(), "https://portal.test/");
        var space = new SyntheticAddressSpace(() => host, 16, state, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var wiki = space.Current!.AddressFor("wiki.corp.test")!;

        Assert.False(space.Recheck());
        Assert.Equal("100.64.0.0/16", state.SyntheticRange);

        host.Add(IPNetwork.Parse("100.64.0.0/12")); // 100.64 to 100.79 taken
        Assert.True(space.Recheck());
        Assert.Equal("100.80.0.0/16", state.SyntheticRange);
        Assert.Null(space.NameOf(wiki));
        Assert.StartsWith("100.80.", space.Current!.AddressFor("wiki.corp.test")!.ToString(), StringComparison.Ordinal);

        host.Add(IPNetwork.Parse("100.80.0.0/12"));
        var before = DateTimeOffset.UtcNow;
        Assert.True(space.Recheck());
        Assert.Null(space.Current);
        Assert.Null(state.SyntheticRange);
        Assert.Contains("no synthetic range is free", state.Snapshot().LastError, StringComparison.Ordinal);
        Assert.InRange(state.Snapshot().LastErrorAt!.Value, before, DateTimeOffset.UtcNow);
    }

    [Fact]
    public void Private_app_names_match_exactly_or_below_a_wildcard()
    {
        var names = new PrivateAppNames(["wiki.corp.test", "*.git.corp.test", "  Jira.Corp.Test. "]);

        Assert.True(names.Contains("wiki.corp.test"));
        Assert.True(names.Contains("jira.corp.test"));
        Assert.True(names.Contains("eu.git.corp.test"));
        Assert.False(names.Contains("git.corp.test"));
        Assert.False(names.Contains("www.wiki.corp.test"));
        Assert.False(names.Contains("xgit.corp.test"));
    }
}
