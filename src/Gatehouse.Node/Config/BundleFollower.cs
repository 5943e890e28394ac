using System.Net;
using Gatehouse.Node.Credentials;
using Gatehouse.Trust.Bundles;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Node.Config;

/// <summary>
/// Follows the node's config bundle: serves the last-known-good copy from disk at once, then long
/// polls the portal, verifies every bundle it gets, and puts in force only bundles signed by the
/// tenant's config key, meant for this tenant and consumer, and not older than the one in force.
/// </summary>
/// <remarks>
/// <code>
///   Start ── load last-known-good ── verify ── Current (even with the portal down)
///     │
///     └─▶ loop: GET {configPath}?wait=30, If-None-Match: "v{Current.Version}"
///            (wait=0 on the first call and after a failure, so a reconnect shows at once)
///            200 ─▶ Offer(document): verify ─▶ in force + saved │ refused: Current stays, back off
///            304 ─▶ unchanged, poll again at once
///            503 ─▶ wait Retry-After (capped)   401/403, network, timeout ─▶ back off
///         backoff: random in [0, min(MaxBackoff, MinBackoff·2^failures)] (full jitter)
/// </code>
/// </remarks>
public sealed class BundleFollower : IAsyncDisposable
{
    private readonly LastKnownGoodStore _lastKnownGood;
    private readonly BundleFollowerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BundleVerifier _verifier;
    private readonly NodeIdentity _identity;
    private readonly string _consumer;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private HttpClient _client;
    private HttpClient? _nextClient;
    private VerifiedBundle? _current;
    // The newest bundle whose Changed handlers are done: what WaitForVersionAsync waits for.
    private VerifiedBundle? _announced;
    private BundleFollowerStatus _status;
    private TaskCompletionSource _announcedSignal = NewSignal();
    private Task? _loop;
    private bool _started;

    /// <summary>Creates a follower; nothing happens until <see cref="Start"/>.</summary>
    /// <param name="credentials">The node's credentials; the follower copies what it needs, so the caller may dispose them.</param>
    /// <param name="lastKnownGood">Where the bundle in force is kept (<see cref="NodeCredentialStore.LastKnownGood"/>).</param>
    /// <param name="options">Tuning; the defaults when not given.</param>
    /// <param name="time">The clock for waits, timeouts and expiry; the system clock when not given.</param>
    /// <param name="logger">Where to log; nowhere when not given.</param>
    public BundleFollower(NodeCredentials credentials, LastKnownGoodStore lastKnownGood, BundleFollowerOptions? options = null, TimeProvider? time = null, ILogger<BundleFollower>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(lastKnownGood);
        _lastKnownGood = lastKnownGood;
        _options = options ?? new BundleFollowerOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(_options.WaitSeconds, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(_options.WaitSeconds, 60, nameof(options));
        _time = time ?? TimeProvider.System;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _identity = credentials.Identity;
        _consumer = _options.Consumer ?? _identity.Consumer;
        _verifier = new BundleVerifier([credentials.ConfigKeySpki], _identity.TenantId.ToString(), _consumer, _time);
        _client = CreateClient(credentials);
        _status = new BundleFollowerStatus(PortalConnection.Starting, _time.GetUtcNow(), null, null, null);
    }

    /// <summary>
    /// The node's own reading of a newer bundle's body, before it is put in force or saved as last known
    /// good: a reason refuses the bundle (<see cref="BundleVerificationStatus.Unusable"/>) and the one in
    /// force stays, on disk too, so that a restart never starts from a bundle the node could not use.
    /// Set it before <see cref="Start"/>; it runs under the follower's lock and should be quick.
    /// </summary>
    public Func<VerifiedBundle, string?>? Check { get; set; }

    /// <summary>Raised after a newer bundle is put in force; handlers run on the follower's thread and should be quick.</summary>
    public event EventHandler<BundleChangedEventArgs>? Changed;

    /// <summary>Raised when <see cref="Status"/> changes.</summary>
    public event EventHandler<BundleFollowerStatus>? StatusChanged;

    /// <summary>The bundle in force, or <see langword="null"/> before the first one is known.</summary>
    public VerifiedBundle? Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    /// <summary>How the node stands with the portal.</summary>
    public BundleFollowerStatus Status
    {
        get
        {
            lock (_gate)
            {
                return _status;
            }
        }
    }

    /// <summary>
    /// Puts the last-known-good bundle in force (after verifying it again) and starts following the
    /// portal in the background. Returns at once, whether or not the portal is reachable.
    /// </summary>
    /// <returns>The bundle in force, or <see langword="null"/> when none is stored or the stored one is refused.</returns>
    public VerifiedBundle? Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            if (_started)
            {
                return _current;
            }

            _started = true;
        }

        LoadLastKnownGood();
        _loop = Task.Run(() => RunAsync(_stop.Token));
        return Current;
    }

    /// <summary>
    /// Verifies a bundle document and puts it in force when it is valid and newer. The poll loop
    /// calls this for every bundle the portal sends; a refused bundle changes nothing.
    /// </summary>
    /// <param name="document">The bundle document as received.</param>
    /// <returns>The verification; valid for a newer bundle (now in force) and for the bundle in force itself.</returns>
    public BundleVerification Offer(ReadOnlySpan<byte> document)
    {
        BundleVerification result;
        VerifiedBundle? changed = null;
        lock (_gate)
        {
            var current = _current;
            result = current is null ? _verifier.Verify(document, null) : _verifier.VerifyAgainst(document, current);
            if (!result.IsValid)
            {
                ConfigLog.BundleRefused(_logger, result.Status, result.Reason, current?.Header.Version);
                _status = _status with { LastError = $"A bundle was refused: {result.Reason}", LastErrorAt = _time.GetUtcNow() };
                return result;
            }

            if (current is null || result.Bundle!.Header.Version > current.Header.Version)
            {
                if (Check?.Invoke(result.Bundle!) is { } unusable)
                {
                    result = new BundleVerification(BundleVerificationStatus.Unusable, unusable, null);
                    ConfigLog.BundleRefused(_logger, result.Status, unusable, current?.Header.Version);
                    _status = _status with { LastError = $"A bundle was refused: {unusable}", LastErrorAt = _time.GetUtcNow() };
                    return result;
                }

                changed = result.Bundle!;
                _current = changed;
                _status = _status with { Version = changed.Header.Version };
                Save(changed);
            }
        }

        if (changed is not null)
        {
            ConfigLog.BundleInForce(_logger, changed.Header.Consumer, changed.Header.Version);

            // Whoever waits for a version sees the Changed handlers done with it, even when one throws.
            try
            {
                Changed?.Invoke(this, new BundleChangedEventArgs(changed));
            }
            finally
            {
                Announce(changed);
            }
        }

        return result;
    }

    private void Announce(VerifiedBundle bundle)
    {
        TaskCompletionSource signal;
        lock (_gate)
        {
            if (_announced is null || bundle.Header.Version > _announced.Header.Version)
            {
                _announced = bundle;
            }

            signal = _announcedSignal;
            _announcedSignal = NewSignal();
        }

        signal.TrySetResult();
    }

    /// <summary>
    /// Waits until a bundle of at least <paramref name="version"/> is in force and the <see cref="Changed"/>
    /// handlers are done with it.
    /// </summary>
    /// <param name="version">The version to wait for.</param>
    /// <param name="ct">Bounds the wait.</param>
    /// <returns>The bundle in force.</returns>
    public async Task<VerifiedBundle> WaitForVersionAsync(long version, CancellationToken ct)
    {
        while (true)
        {
            Task signal;
            lock (_gate)
            {
                if (_announced is { } announced && announced.Header.Version >= version)
                {
                    return _current!;
                }

                signal = _announcedSignal.Task;
            }

            await signal.WaitAsync(ct);
        }
    }

    /// <summary>Uses renewed credentials from the next call on (their identity must be the same node's).</summary>
    /// <param name="credentials">The renewed credentials; the follower copies what it needs.</param>
    /// <exception cref="ArgumentException">The credentials are of another node.</exception>
    public void UseCredentials(NodeCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        if (credentials.Identity != _identity)
        {
            throw new ArgumentException("The credentials are of another node.", nameof(credentials));
        }

        var client = CreateClient(credentials);
        lock (_gate)
        {
            var previous = _nextClient;
            _nextClient = client;
            previous?.Dispose();
        }
    }

    /// <summary>Stops following; the bundle in force stays readable.</summary>
    /// <returns>A task that completes when the poll loop has ended.</returns>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_stop.IsCancellationRequested)
            {
                return;
            }

            _stop.Cancel();
        }

        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _client.Dispose();
        _nextClient?.Dispose();
        _stop.Dispose();
    }

    private void LoadLastKnownGood()
    {
        byte[]? stored;
        try
        {
            stored = _lastKnownGood.Load(_identity.TenantId.ToString(), _consumer);
        }
        catch (IOException e)
        {
            ConfigLog.LastKnownGoodRefused(_logger, BundleVerificationStatus.Malformed, e.Message);
            return;
        }

        if (stored is null)
        {
            return;
        }

        var result = Offer(stored);
        if (result.IsValid)
        {
            ConfigLog.LastKnownGoodLoaded(_logger, result.Bundle!.Header.Version);
        }
        else
        {
            ConfigLog.LastKnownGoodRefused(_logger, result.Status, result.Reason);
        }
    }

    // The node's own path, or the same path for the consumer the options name.
    private string ConfigPath => _consumer == _identity.Consumer
        ? _identity.ConfigPath
        : _identity.ConfigPath[..(_identity.ConfigPath.LastIndexOf('/') + 1)] + _consumer;

    private async Task RunAsync(CancellationToken stop)
    {
        var failures = 0;
        var first = true;
        while (!stop.IsCancellationRequested)
        {
            TimeSpan? delay;
            try
            {
                // The first call and the first after a failure do not wait, so that "connected" shows at once.
                delay = await PollOnceAsync(first || failures > 0 ? 0 : _options.WaitSeconds, stop);
                first = false;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A throwing Changed or StatusChanged handler must not end the following; the bundle in force stays.
                ConfigLog.LoopFailed(_logger, e);
                delay = TimeSpan.MinValue;
            }

            if (delay is null)
            {
                failures = 0;
                continue;
            }

            var wait = delay.Value == TimeSpan.MinValue ? Backoff(failures) : delay.Value;
            failures++;
            ConfigLog.PollFailed(_logger, Status.LastError ?? "unknown error.", wait.TotalSeconds);
            try
            {
                await Task.Delay(wait, _time, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One call: <see langword="null"/> to poll again at once, <see cref="TimeSpan.MinValue"/> to back off, else a wait the portal asked for.</summary>
    private async Task<TimeSpan?> PollOnceAsync(int waitSeconds, CancellationToken stop)
    {
        var client = TakeClient();
        var current = Current;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(waitSeconds) + _options.RequestGrace, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, deadline.Token);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{ConfigPath}?wait={waitSeconds}");
        if (current is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", $"\"v{current.Header.Version}\"");
        }

        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token);
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    var document = await response.Content.ReadAsByteArrayAsync(linked.Token);
                    SetConnection(PortalConnection.Connected, null);
                    return Offer(document).IsValid ? null : TimeSpan.MinValue;
                case HttpStatusCode.NotModified:
                    SetConnection(PortalConnection.Connected, null);
                    return null;
                case HttpStatusCode.ServiceUnavailable:
                    SetConnection(PortalConnection.Unreachable, $"The portal is unavailable (503): {await DetailAsync(response, linked.Token)}");
                    return RetryAfter(response) ?? TimeSpan.MinValue;
                case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                    SetConnection(PortalConnection.Refused, $"The portal refuses this node ({(int)response.StatusCode}): {await DetailAsync(response, linked.Token)}");
                    return TimeSpan.MinValue;
                default:
                    var status = (int)response.StatusCode;
                    SetConnection(status >= 500 ? PortalConnection.Unreachable : PortalConnection.Refused, $"The portal answered {status}: {await DetailAsync(response, linked.Token)}");
                    return TimeSpan.MinValue;
            }
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            SetConnection(PortalConnection.Unreachable, "The portal did not answer in time.");
            return TimeSpan.MinValue;
        }
        catch (HttpRequestException e)
        {
            SetConnection(PortalConnection.Unreachable, $"The portal cannot be reached: {e.Message}");
            return TimeSpan.MinValue;
        }
    }

    private HttpClient TakeClient()
    {
        lock (_gate)
        {
            if (_nextClient is not null)
            {
                _client.Dispose();
                _client = _nextClient;
                _nextClient = null;
            }

            return _client;
        }
    }

    private void SetConnection(PortalConnection connection, string? error)
    {
        BundleFollowerStatus status;
        lock (_gate)
        {
            var previous = _status;
            var now = _time.GetUtcNow();
            status = previous with
            {
                Connection = connection,
                Since = previous.Connection == connection ? previous.Since : now,
                LastContact = connection is PortalConnection.Connected or PortalConnection.Refused ? now : previous.LastContact,
                LastError = error ?? previous.LastError,
                LastErrorAt = error is null ? previous.LastErrorAt : now,
            };
            if (status == previous)
            {
                return;
            }

            _status = status;
            if (previous.Connection is PortalConnection.Unreachable or PortalConnection.Refused && connection == PortalConnection.Connected)
            {
                ConfigLog.Reconnected(_logger);
            }
        }

        StatusChanged?.Invoke(this, status);
    }

    private TimeSpan Backoff(int failures)
    {
        var ceiling = Math.Min(_options.MaxBackoff.TotalMilliseconds, _options.MinBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(failures, 30)));
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ceiling);
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var retry = response.Headers.RetryAfter;
        TimeSpan? wait = retry?.Delta ?? (retry?.Date is { } date ? date - _time.GetUtcNow() : null);
        if (wait is not { } value)
        {
            return null;
        }

        return value < TimeSpan.Zero ? TimeSpan.Zero : value > _options.MaxBackoff ? _options.MaxBackoff : value;
    }

    private static async Task<string> DetailAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var problem = await Enrollment.PortalCalls.RefusalAsync(response, ct);
        return problem.Message;
    }

    private void Save(VerifiedBundle bundle)
    {
        try
        {
            _lastKnownGood.Save(bundle);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The bundle is valid and stays in force; only a restart during an outage would miss it.
            ConfigLog.SaveFailed(_logger, e);
        }
    }

    private HttpClient CreateClient(NodeCredentials credentials)
    {
        var client = NodeHttpClient.Create(credentials);
        client.MaxResponseContentBufferSize = _options.MaxBundleBytes;
        return client;
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
