using System.Net;
using System.Net.NetworkInformation;
using Gatehouse.Agent.Names;
using Gatehouse.Agent.Flows;
using Gatehouse.Agent.State;
using Gatehouse.Wire.Agent;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Agent.Transparent;

/// <summary>
/// The transparent interception mode: the listener redirected connections arrive at, the local DNS
/// resolver, and the nftables table that sends traffic to both. The table is in place exactly while
/// the agent should intercept (<see cref="AgentState.Intercepts"/>: the forwarding profile says
/// <c>tunnel</c> and nothing makes the agent stand aside), so that a disabled agent, a captive portal's
/// pause or a <c>none</c> network leaves the machine's traffic wholly alone; it is removed on stop.
/// </summary>
internal sealed class TransparentInterception : IAsyncDisposable
{
    /// <summary>The default address of the transparent listener.</summary>
    public const string DefaultListen = "127.0.0.1:9040";

    /// <summary>How often the table is brought in line with the state.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>How long to wait before trying nft again after it failed.</summary>
    public static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(30);

    private readonly IReadOnlyList<FlowListener> _listeners;
    private readonly IReadOnlyList<LocalResolver> _resolvers;
    private readonly bool _ipv6;
    private readonly AgentState _state;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly SyntheticAddressSpace _synthetic;
    private bool _installed;
    private volatile bool _addressesChanged;
    private DateTimeOffset _rangeCheckedAt = DateTimeOffset.UtcNow;
    private DateTimeOffset _retryAt = DateTimeOffset.MinValue;

    private TransparentInterception(IReadOnlyList<FlowListener> listeners, IReadOnlyList<LocalResolver> resolvers, SyntheticAddressSpace synthetic, AgentState state, ILogger logger)
    {
        _synthetic = synthetic;
        _listeners = listeners;
        _resolvers = resolvers;
        _ipv6 = listeners.Count > 1;
        _state = state;
        _logger = logger;
        _loop = FollowStateAsync();
    }

    /// <summary>The private apps' names of the bundle in force, for the resolvers.</summary>
    public void UsePrivateApps(PrivateAppNames names)
    {
        foreach (var resolver in _resolvers)
        {
            resolver.Use(names);
        }
    }

    /// <summary>
    /// Starts the listener and the resolver on <paramref name="listen"/> and <paramref name="dns"/>
    /// (IPv4 loopback), and on the same ports of ::1 when the host has IPv6, so that IPv6 is carried
    /// too; the table follows the state from then on.
    /// </summary>
    /// <exception cref="System.Net.Sockets.SocketException">An IPv4 address cannot be bound.</exception>
    public static TransparentInterception Start(IPEndPoint listen, IPEndPoint dns, FlowOpener flows, SyntheticAddressSpace synthetic, string resolvConf, AgentState state, ILogger logger)
    {
        // Any stale table (a crash the service did not see) goes first: it would send traffic to a dead port.
        NftRedirect.Remove();
        var listeners = new List<FlowListener>();
        var resolvers = new List<LocalResolver>();
        try
        {
            listeners.Add(StartListener(listen, flows, synthetic, state, logger));
            resolvers.Add(LocalResolver.Start(dns, synthetic, resolvConf, NftRedirect.Mark, logger));
            try
            {
                listeners.Add(StartListener(new IPEndPoint(IPAddress.IPv6Loopback, listeners[0].Address.Port), flows, synthetic, state, logger));
                resolvers.Add(LocalResolver.Start(new IPEndPoint(IPAddress.IPv6Loopback, resolvers[0].Address.Port), synthetic, resolvConf, NftRedirect.Mark, logger));
            }
            catch (System.Net.Sockets.SocketException e)
            {
                // No IPv6 here (or ::1 is missing): IPv6 connections are reset instead, so applications use IPv4.
                if (listeners.Count > 1)
                {
                    listeners[1].DisposeAsync().AsTask().GetAwaiter().GetResult();
                    listeners.RemoveAt(1);
                }

                AgentLog.Ipv6NotCarried(logger, e.Message);
            }

            return new TransparentInterception(listeners, resolvers, synthetic, state, logger);
        }
        catch
        {
            foreach (var listener in listeners)
            {
                listener.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            foreach (var resolver in resolvers)
            {
                resolver.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            throw;
        }
    }

    private static FlowListener StartListener(IPEndPoint listen, FlowOpener flows, SyntheticAddressSpace synthetic, AgentState state, ILogger logger)
    {
        IPEndPoint? bound = null;
        var listener = FlowListener.Start(listen, client => new TransparentSession(client, flows, synthetic, state, bound!, logger), "transparent listener", logger);
        bound = listener.Address;
        return listener;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        Apply(wanted: false);
        foreach (var listener in _listeners)
        {
            await listener.DisposeAsync();
        }

        foreach (var resolver in _resolvers)
        {
            await resolver.DisposeAsync();
        }

        _stop.Dispose();
    }

    /// <summary>How often the synthetic range is checked against the host's networks when no address changed.</summary>
    public static readonly TimeSpan RangeRecheckInterval = TimeSpan.FromSeconds(30);

    private async Task FollowStateAsync()
    {
        NetworkChange.NetworkAddressChanged += OnAddressChanged;
        try
        {
            using var timer = new PeriodicTimer(CheckInterval);
            do
            {
                Apply(_state.Intercepts);
                if (_addressesChanged || DateTimeOffset.UtcNow - _rangeCheckedAt >= RangeRecheckInterval)
                {
                    _addressesChanged = false;
                    _rangeCheckedAt = DateTimeOffset.UtcNow;
                    _synthetic.Recheck();
                }
            }
            while (await WaitAsync(timer));
        }
        finally
        {
            NetworkChange.NetworkAddressChanged -= OnAddressChanged;
        }
    }

    private void OnAddressChanged(object? sender, EventArgs e) => _addressesChanged = true;

    private async Task<bool> WaitAsync(PeriodicTimer timer)
    {
        try
        {
            return await timer.WaitForNextTickAsync(_stop.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void Apply(bool wanted)
    {
        if (wanted == _installed || (wanted && DateTimeOffset.UtcNow < _retryAt))
        {
            return;
        }

        try
        {
            if (wanted)
            {
                NftRedirect.Install(_listeners[0].Address.Port, _resolvers[0].Address.Port, _ipv6);
            }
            else
            {
                NftRedirect.Remove();
            }

            _installed = wanted;
            _state.Mode = wanted ? AgentModes.Transparent : AgentModes.LocalProxy;
            AgentLog.Interception(_logger, wanted ? "on" : "off", _listeners[0].Address.Port, _resolvers[0].Address.Port);
        }
        catch (InvalidOperationException e)
        {
            _retryAt = DateTimeOffset.UtcNow + RetryAfterFailure;
            _state.Error($"transparent interception cannot be set up: {e.Message}");
            AgentLog.InterceptionFailed(_logger, e.Message);
        }
    }
}
