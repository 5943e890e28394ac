using System.Net;
using Gatehouse.Agent.State;

namespace Gatehouse.Agent.Networks;

/// <summary>
/// Notices a captive portal (a hotel or airport sign-in page that holds back all traffic until the
/// user signs in): while no edge answers, it fetches <c>probe</c> directly every <c>interval</c>. The probe
/// answers 204 on an open network; anything else (a redirect, a sign-in page) means a captive portal,
/// and the agent stands aside for the app profile's pause so that the user can sign in.
/// </summary>
internal sealed class CaptivePortalMonitor : IAsyncDisposable
{
    /// <summary>Where the agent looks by default: a well-known URL that answers 204 No Content.</summary>
    public const string DefaultProbe = "http://connectivitycheck.gstatic.com/generate_204";

    private readonly Uri _probe;
    private readonly AgentState _state;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly HttpClient _client;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    /// <param name="probe">The URL that answers 204 on an open network.</param>
    /// <param name="state">The agent's state.</param>
    /// <param name="interval">How often to probe while no edge answers.</param>
    /// <param name="time">The clock.</param>
    /// <param name="socketMark">The mark of the agent's own sockets in transparent mode: the probe goes direct, never to the agent itself.</param>
    public CaptivePortalMonitor(Uri probe, AgentState state, TimeSpan interval, TimeProvider time, int? socketMark = null)
    {
        _probe = probe;
        _state = state;
        _interval = interval;
        _time = time;

        // Direct, never through a proxy, and never following the portal's redirect.
        var handler = new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(3) };
        if (socketMark is { } mark)
        {
            handler.ConnectCallback = Wire.Sockets.SocketMark.ConnectCallback(mark);
        }

        _client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
    }

    public void Start() => _loop = LoopAsync(_stop.Token);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
            // stopping
        }

        _client.Dispose();
        _stop.Dispose();
    }

    /// <summary>How often the state is looked at: the first probe follows the edges' loss within this.</summary>
    public static readonly TimeSpan StatePollInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Probes as soon as the edges stop answering (a captive portal is the likeliest reason on a new
    /// network), then every interval while they stay unreachable.
    /// </summary>
    private async Task LoopAsync(CancellationToken ct)
    {
        DateTimeOffset? lastProbe = null;
        var wasUnreachable = false;
        while (!ct.IsCancellationRequested)
        {
            var unreachable = _state.EdgesUnreachable;
            var due = unreachable && (!wasUnreachable || lastProbe is null || _time.GetUtcNow() - lastProbe >= _interval);
            wasUnreachable = unreachable;
            if (due && _state.CaptivePortalPause > TimeSpan.Zero && !_state.InCaptivePortalPause)
            {
                lastProbe = _time.GetUtcNow();
                if (await IsCaptiveAsync(ct))
                {
                    _state.CaptivePortalFound(_time.GetUtcNow() + _state.CaptivePortalPause);
                }
            }

            await Task.Delay(TimeSpan.FromTicks(Math.Min(StatePollInterval.Ticks, _interval.Ticks)), _time, ct);
        }
    }

    private async Task<bool> IsCaptiveAsync(CancellationToken ct)
    {
        try
        {
            using var response = await _client.GetAsync(_probe, HttpCompletionOption.ResponseHeadersRead, ct);
            return response.StatusCode != HttpStatusCode.NoContent;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            // No answer at all is no network, not a captive portal.
            return false;
        }
    }
}
