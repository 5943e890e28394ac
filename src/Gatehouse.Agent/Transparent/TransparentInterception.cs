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

    private readonly FlowListener _listener;
    private readonly LocalResolver _resolver;
    private readonly AgentState _state;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly SyntheticAddressSpace _synthetic;
    private bool _installed;
    private volatile bool _addressesChanged;
    private DateTimeOffset _rangeCheckedAt = DateTimeOffset.UtcNow;
    private DateTimeOffset _retryAt = DateTimeOffset.MinValue;

    private TransparentInterception(FlowListener listener, LocalResolver resolver, SyntheticAddressSpace synthetic, AgentState state, ILogger logger)
    {
        _synthetic = synthetic;
        _listener = listener;
        _resolver = resolver;
        _state = state;
        _logger = logger;
        _loop = FollowStateAsync();
    }

    /// <summary>The resolver, which learns the private apps' names from each bundle.</summary>
    public LocalResolver Resolver => _resolver;

    /// <summary>Starts the listener and the resolver; the table follows the state from then on.</summary>
    /// <exception cref="System.Net.Sockets.SocketException">An address cannot be bound.</exception>
    public static TransparentInterception Start(IPEndPoint listen, IPEndPoint dns, FlowOpener flows, SyntheticAddressSpace synthetic, string resolvConf, AgentState state, ILogger logger)
    {
        // Any stale table (a crash the service did not see) goes first: it would send traffic to a dead port.
        NftRedirect.Remove();
        FlowListener? listener = null;
        try
        {
            IPEndPoint? bound = null;
            listener = FlowListener.Start(listen, client => new TransparentSession(client, flows, synthetic, state, bound!, logger), "transparent listener", logger);
            bound = listener.Address;
            var resolver = LocalResolver.Start(dns, synthetic, resolvConf, NftRedirect.Mark, logger);
            return new TransparentInterception(listener, resolver, synthetic, state, logger);
        }
        catch
        {
            listener?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        Apply(wanted: false);
        await _listener.DisposeAsync();
        await _resolver.DisposeAsync();
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
                NftRedirect.Install(_listener.Address.Port, _resolver.Address.Port);
            }
            else
            {
                NftRedirect.Remove();
            }

            _installed = wanted;
            _state.Mode = wanted ? AgentModes.Transparent : AgentModes.LocalProxy;
            AgentLog.Interception(_logger, wanted ? "on" : "off", _listener.Address.Port, _resolver.Address.Port);
        }
        catch (InvalidOperationException e)
        {
            _retryAt = DateTimeOffset.UtcNow + RetryAfterFailure;
            _state.Error($"transparent interception cannot be set up: {e.Message}");
            AgentLog.InterceptionFailed(_logger, e.Message);
        }
    }
}
