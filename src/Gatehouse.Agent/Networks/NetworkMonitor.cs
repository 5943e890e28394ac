using System.Net.NetworkInformation;
using Gatehouse.Agent.Bundles;
using Gatehouse.Agent.State;

namespace Gatehouse.Agent.Networks;

/// <summary>
/// Decides which kind of network the device is on, and so what the forwarding profile does with its
/// traffic: at start, when the config changes, when the machine's addresses change, and every
/// <c>interval</c> (a beacon can go away without any address changing). Reports to <see cref="AgentState"/>.
/// </summary>
internal sealed class NetworkMonitor : IAsyncDisposable
{
    private readonly NetworkDetector _detector;
    private readonly AgentState _state;
    private readonly TimeSpan _interval;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private volatile AgentBundle? _config;
    private Task _loop = Task.CompletedTask;

    public NetworkMonitor(NetworkDetector detector, AgentState state, TimeSpan interval)
    {
        _detector = detector;
        _state = state;
        _interval = interval;
    }

    public void Start()
    {
        NetworkChange.NetworkAddressChanged += OnAddressChanged;
        _loop = LoopAsync(_stop.Token);
    }

    /// <summary>Takes the criteria and forwarding profile of a new config, and evaluates again.</summary>
    public void Use(AgentBundle config)
    {
        _config = config;
        Wake();
    }

    public async ValueTask DisposeAsync()
    {
        NetworkChange.NetworkAddressChanged -= OnAddressChanged;
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
            // stopping
        }

        _stop.Dispose();
        _wake.Dispose();
    }

    private void OnAddressChanged(object? sender, EventArgs e) => Wake();

    private void Wake()
    {
        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
        catch (Exception e) when (e is SemaphoreFullException or ObjectDisposedException)
        {
            // Already woken, or stopping.
        }
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            if (_config is { } config)
            {
                var verdict = await _detector.EvaluateAsync(config.TrustedNetwork, ct);
                _state.NetworkDetected(verdict.Kind, verdict.Reason, config.Forwarding.For(verdict.Kind));
            }

            await WaitForChangeAsync(ct);
        }
    }

    /// <summary>
    /// Waits for an address-change event, the interval, or a change of the interfaces' states seen by
    /// a cheap look every <see cref="LinkPollInterval"/>: a link going up raises no address event, and a
    /// VPN that comes up must count at once.
    /// </summary>
    private async Task WaitForChangeAsync(CancellationToken ct)
    {
        var links = _detector.LinkState();
        var until = DateTimeOffset.UtcNow + _interval;
        while (DateTimeOffset.UtcNow < until)
        {
            var step = TimeSpan.FromTicks(Math.Min(LinkPollInterval.Ticks, (until - DateTimeOffset.UtcNow).Ticks));
            if (step <= TimeSpan.Zero || await _wake.WaitAsync(step, ct) || _detector.LinkState() != links)
            {
                return;
            }
        }
    }

    /// <summary>How often the interfaces' states are compared.</summary>
    public static readonly TimeSpan LinkPollInterval = TimeSpan.FromSeconds(1);
}
