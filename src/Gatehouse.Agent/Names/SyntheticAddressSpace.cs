using System.Net;
using Gatehouse.Agent.State;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Agent.Names;

/// <summary>
/// The synthetic range in use and its address map, chosen again when the host starts using the range
/// (an interface joins a network in it, a route or a DNS server appears there): a synthetic address
/// must never stand for a private app where a real host has it. Choosing again starts an empty map in
/// the new range; an application still holding an old answer reconnects after its TTL.
/// </summary>
internal sealed class SyntheticAddressSpace
{
    private readonly Func<IReadOnlyList<IPNetwork>> _hostNetworks;
    private readonly int _capacity;
    private readonly AgentState _state;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private volatile SyntheticAddresses? _current;

    /// <param name="hostNetworks">The networks the host uses now (<see cref="SyntheticRange.HostNetworks"/>).</param>
    /// <param name="capacity">The most names held at once.</param>
    /// <param name="state">Shows the range in <c>gatehouse status</c>.</param>
    /// <param name="logger">The log.</param>
    public SyntheticAddressSpace(Func<IReadOnlyList<IPNetwork>> hostNetworks, int capacity, AgentState state, ILogger logger)
    {
        _hostNetworks = hostNetworks;
        _capacity = capacity;
        _state = state;
        _logger = logger;
        Recheck();
    }

    /// <summary>The map in use, or null when every candidate range is taken.</summary>
    public SyntheticAddresses? Current => _current;

    /// <summary>The private app a synthetic address stands for, or null.</summary>
    public string? NameOf(IPAddress address) => _current?.NameOf(address);

    /// <summary>
    /// Chooses the range again if the one in use now overlaps a network of the host (or none was free);
    /// returns whether the range changed.
    /// </summary>
    public bool Recheck()
    {
        var used = _hostNetworks();
        lock (_lock)
        {
            var current = _current;
            if (current is not null && !used.Any(n => SyntheticRange.Overlaps(n, current.Range)))
            {
                return false;
            }

            var range = SyntheticRange.Choose(used);
            if (range is null)
            {
                _current = null;
                _state.SyntheticRange = null;
                _state.Error($"no synthetic range is free: 100.{SyntheticRange.FirstSecondOctet}.0.0/16 to 100.{SyntheticRange.LastSecondOctet}.0.0/16 are all used on this host");
                return current is not null;
            }

            _current = new SyntheticAddresses(range.Value, _capacity);
            _state.SyntheticRange = range.Value.ToString();
            AgentLog.SyntheticRangeChosen(_logger, _state.SyntheticRange);
            return true;
        }
    }
}
