using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Gatehouse.Connector.Config;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Tunnel;

namespace Gatehouse.Connector.Health;

/// <summary>
/// Checks the app servers of the served segments every <see cref="Interval"/>: every address a server's name
/// resolves to, on each port, by a TCP connect or an HTTP GET (2xx or 3xx passes). An address whose last check
/// failed gets no new flows (<see cref="IsDown"/>) until a check passes again.
/// </summary>
internal sealed class ServerHealth : IAsyncDisposable
{
    private readonly ConcurrentDictionary<(string Segment, string Host, string Address, int Port), ServerHealthDto> _results = new();
    private readonly ConcurrentDictionary<(IPAddress Address, int Port), bool> _down = new();
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly HttpClient _http;
    private volatile IReadOnlyList<HealthTarget> _targets = [];
    private Task _loop = Task.CompletedTask;

    public ServerHealth(TimeSpan interval, TimeSpan timeout, Func<string, CancellationToken, Task<IPAddress[]>> resolve, TimeProvider time)
    {
        Interval = interval;
        Timeout = timeout;
        _resolve = resolve;
        _time = time;
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = timeout };
    }

    public TimeSpan Interval { get; }

    public TimeSpan Timeout { get; }

    /// <summary>Raised after a round in which some server changed state.</summary>
    public event EventHandler? Changed;

    /// <summary>The last result of every check.</summary>
    public IReadOnlyList<ServerHealthDto> Results => [.. _results.Values.OrderBy(r => r.Segment, StringComparer.Ordinal).ThenBy(r => r.Host, StringComparer.Ordinal).ThenBy(r => r.Address, StringComparer.Ordinal).ThenBy(r => r.Port)];

    /// <summary>Whether the last check of <paramref name="address"/> on <paramref name="port"/> failed.</summary>
    public bool IsDown(IPAddress address, int port) => _down.TryGetValue((address, port), out var down) && down;

    /// <summary>Checks these from the next round on (the first round runs at once).</summary>
    public void Use(IReadOnlyList<HealthTarget> targets)
    {
        _targets = targets;
        foreach (var key in _results.Keys)
        {
            if (!targets.Any(t => t.Segment == key.Segment && t.Host == key.Host && t.Port == key.Port))
            {
                _results.TryRemove(key, out _);
            }
        }
    }

    public void Start() => _loop = RunAsync(_stop.Token);

    /// <summary>Runs one round now.</summary>
    public async Task CheckAllAsync(CancellationToken ct)
    {
        var before = _down.ToDictionary();
        var round = new ConcurrentDictionary<(IPAddress, int), bool>();
        await Parallel.ForEachAsync(_targets, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (target, token) =>
        {
            foreach (var result in await CheckAsync(target, token))
            {
                _results[(target.Segment, target.Host, result.Address, target.Port)] = result;
                if (IPAddress.TryParse(result.Address, out var address))
                {
                    // Down on one check (one segment's HTTP path) is down for the flows to that address and port.
                    round.AddOrUpdate((address, target.Port), !result.Healthy, (_, down) => down || !result.Healthy);
                }
            }
        });

        foreach (var key in _down.Keys.Except(round.Keys))
        {
            _down.TryRemove(key, out _);
        }

        foreach (var (key, down) in round)
        {
            _down[key] = down;
        }

        if (before.Count != _down.Count || before.Any(b => !_down.TryGetValue(b.Key, out var now) || now != b.Value))
        {
            Changed?.Invoke(this, EventArgs.Empty);
        }
    }

    private async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await CheckAllAsync(ct);
                await Task.Delay(Interval, _time, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<List<ServerHealthDto>> CheckAsync(HealthTarget target, CancellationToken ct)
    {
        IPAddress[] addresses;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(Timeout);
            addresses = IPAddress.TryParse(target.Host, out var literal) ? [literal] : await _resolve(target.Host, timeout.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return [new ServerHealthDto(target.Segment, target.Host, string.Empty, target.Port, false, $"the name does not resolve: {e.Message}", _time.GetUtcNow())];
        }

        var results = new List<ServerHealthDto>(addresses.Length);
        foreach (var address in addresses)
        {
            var (healthy, detail) = target.Check == HealthCheckKinds.Http
                ? await HttpCheckAsync(target, address, ct)
                : await TcpCheckAsync(address, target.Port, ct);
            results.Add(new ServerHealthDto(target.Segment, target.Host, address.ToString(), target.Port, healthy, detail, _time.GetUtcNow()));
        }

        return results;
    }

    private async Task<(bool, string)> TcpCheckAsync(IPAddress address, int port, CancellationToken ct)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        try
        {
            await socket.ConnectAsync(address, port, timeout.Token);
            return (true, "connected");
        }
        catch (SocketException e)
        {
            return (false, $"connect failed: {e.SocketErrorCode}");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (false, $"no answer within {Timeout.TotalSeconds:0.#} s");
        }
    }

    private async Task<(bool, string)> HttpCheckAsync(HealthTarget target, IPAddress address, CancellationToken ct)
    {
        var authority = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{authority}:{target.Port}{target.Path}"));
        request.Headers.Host = $"{target.Host}:{target.Port}";
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var status = (int)response.StatusCode;
            return (status is >= 200 and < 400, $"HTTP {status}");
        }
        catch (HttpRequestException e)
        {
            return (false, $"HTTP check failed: {e.Message}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return (false, $"no HTTP answer within {Timeout.TotalSeconds:0.#} s");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
        _http.Dispose();
    }
}
