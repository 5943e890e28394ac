using Gatehouse.Agent.LocalApi;
using Gatehouse.Node;
using Gatehouse.Node.Credentials;
using Gatehouse.Node.Enrollment;
using Gatehouse.Trust.Bundles;
using Gatehouse.Trust.Secrets;
using Gatehouse.Wire.Agent;
using Gatehouse.Wire.Config;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Agent.Service;

/// <summary>
/// The agent service: owns enrollment and the device's credentials, answers the local API
/// (<c>gatehouse status | enroll | logout</c>) and supervises the data plane process.
/// </summary>
/// <remarks>
/// <code>
/// gatehouse ──Unix socket (SO_PEERCRED)──► AgentService ── status ──► data plane's status socket
///                                               │ enroll: NodeEnrollment ─► device/ ─► start data plane
///                                               │ logout: app profile password ─► stop data plane ─► delete device/
///                                               └ RoleSupervisor: restart with backoff, clean up after a dead data plane
/// </code>
/// </remarks>
public sealed class AgentService : IAsyncDisposable
{
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(2);

    private readonly AgentServiceOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly NodeCredentialStore _store;
    private readonly RoleSupervisor _dataPlane;
    private readonly SemaphoreSlim _changes = new(1, 1);
    private LocalApiServer? _api;
    private Updates.ReleaseUpdater? _releases;
    private StateDirectoryLock? _stateLock;
    private readonly TaskCompletionSource _restartRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private AgentService(AgentServiceOptions options, ILoggerFactory loggers)
    {
        _options = options;
        _loggers = loggers;
        _logger = loggers.CreateLogger<AgentService>();
        _store = AgentPaths.DeviceStore(options.StateDirectory);
        _dataPlane = new RoleSupervisor(options.DataPlane ?? DefaultDataPlane(options), CleanUpDataPlane, _logger, options.FirstRestartDelay);
    }

    /// <summary>The data plane's process id, while it runs (tests kill it).</summary>
    public int? DataPlanePid => _dataPlane.Pid;

    /// <summary>Completes when a new agent build was installed and the service should exit for <c>launch</c> to start it.</summary>
    public Task RestartRequested => _restartRequested.Task;

    /// <summary>Starts the local API and, when enrolled, the data plane.</summary>
    /// <exception cref="System.Net.Sockets.SocketException">The socket cannot be bound.</exception>
    /// <exception cref="IOException">Another service runs on the state directory.</exception>
    public static AgentService Start(AgentServiceOptions options, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        Directory.CreateDirectory(options.StateDirectory);
        if (!OperatingSystem.IsWindows())
        {
            // Keys and config are the agent's alone.
            File.SetUnixFileMode(options.StateDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var stateLock = StateDirectoryLock.Take(options.StateDirectory);
        var service = new AgentService(options, loggers) { _stateLock = stateLock };
        const UnixFileMode everyone = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
        try
        {
            service._api = LocalApiServer.Start(options.Socket, everyone, service.HandleAsync, service._logger);
        }
        catch
        {
            stateLock.Dispose();
            throw;
        }

        if (service._store.IsEnrolled)
        {
            service._dataPlane.Start();
        }

        if (options.InstallDirectory is { } install)
        {
            service._releases = new Updates.ReleaseUpdater(
                options.StateDirectory, install, service._store, options.Version, () => Bundles.DeviceOwner.LoadGroups(options.StateDirectory),
                service.StatusAsync, () => service._restartRequested.TrySetResult(), options.ReleasePoll, TimeProvider.System, loggers.CreateLogger<Updates.ReleaseUpdater>());
            service._releases.Start();
        }

        return service;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_api is not null)
        {
            await _api.DisposeAsync();
        }

        if (_releases is not null)
        {
            await _releases.DisposeAsync();
        }

        await _dataPlane.DisposeAsync();
        _changes.Dispose();
        _stateLock?.Dispose(); // last: the next service may start once this one's data plane is gone
    }

    private async Task<AgentResponse> HandleAsync(AgentRequest request, PeerCredentials peer, CancellationToken ct)
    {
        if (request.Command is not AgentCommands.Status && !peer.MayAdminister)
        {
            var reason = $"only root or the agent's own user may {request.Command}";
            AgentLog.LocalApiRefused(_logger, request.Command, peer.Uid, reason);
            return new AgentResponse(false, $"Refused: {reason}; try again with sudo.", await StatusAsync(ct));
        }

        return request.Command switch
        {
            AgentCommands.Status => new AgentResponse(true, null, await StatusAsync(ct)),
            AgentCommands.Enroll => await EnrollAsync(request, ct),
            AgentCommands.Logout => await LogoutAsync(request, ct),
            AgentCommands.Disable => await SetDisabledAsync(request, disabled: true, ct),
            AgentCommands.Enable => await SetDisabledAsync(request, disabled: false, ct),
            _ => new AgentResponse(false, $"Unknown command \"{request.Command}\"; the agent knows {AgentCommands.Status}, {AgentCommands.Enroll}, {AgentCommands.Logout}, {AgentCommands.Disable} and {AgentCommands.Enable}.", null),
        };
    }

    private async Task<AgentStatus> StatusAsync(CancellationToken ct)
    {
        if (!_store.IsEnrolled)
        {
            return new AgentStatus(AgentStates.NotEnrolled, "Not enrolled: run `gatehouse enroll --portal URL --token TOKEN`.");
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(StatusTimeout);
            var answer = await AgentLocalApi.CallAsync(AgentPaths.DataPlaneSocket(_options.StateDirectory), new AgentRequest(AgentCommands.Status), timeout.Token);
            if (answer.Status is { } status)
            {
                return status.LastError is null && _dataPlane.LastExit is { } exit
                    ? status with { RoleRestarts = _dataPlane.Restarts, LastError = exit.Reason, LastErrorAt = exit.At }
                    : status with { RoleRestarts = _dataPlane.Restarts };
            }
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or InvalidDataException or OperationCanceledException)
        {
            // The data plane is not up (starting, or restarting after a crash).
        }

        var restarting = _dataPlane.Restarts > 0;
        return new AgentStatus(
            restarting ? AgentStates.Restarting : AgentStates.Starting,
            restarting ? $"The data plane is restarting ({_dataPlane.Restarts} restarts so far)." : "Enrolled; the data plane is starting.",
            LastError: _dataPlane.LastExit?.Reason,
            RoleRestarts: _dataPlane.Restarts,
            LastErrorAt: _dataPlane.LastExit?.At);
    }

    private async Task<AgentResponse> EnrollAsync(AgentRequest request, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.Token))
        {
            return new AgentResponse(false, "An enrollment token is required (--token).", null);
        }

        if (!Uri.TryCreate(request.PortalUrl, UriKind.Absolute, out var portal) || portal.Scheme != Uri.UriSchemeHttps)
        {
            return new AgentResponse(false, $"The portal must be an https:// address, not \"{request.PortalUrl}\".", null);
        }

        await _changes.WaitAsync(ct);
        try
        {
            PortalTrust trust;
            try
            {
                trust = request.PortalCaPem is null ? PortalTrust.SystemRoots : PortalTrust.Pinned(request.PortalCaPem);
            }
            catch (NodeException e)
            {
                return new AgentResponse(false, e.Message, null);
            }

            Guid deviceId;
            try
            {
                var name = string.IsNullOrWhiteSpace(request.Name) ? Environment.MachineName : request.Name;
                using var credentials = await new NodeEnrollment(logger: _loggers.CreateLogger<NodeEnrollment>())
                    .EnrollDeviceAsync(_store, portal, trust, request.Token, name, "linux", _options.Version, ct);
                deviceId = credentials.Identity.SubjectId;
                AgentLog.Enrolled(_logger, deviceId);
            }
            catch (NodeException e)
            {
                return new AgentResponse(false, $"Enrollment failed: {e.Message}", await StatusAsync(ct));
            }

            _dataPlane.Start();

            // The data plane, which reports the device, is only starting: the id comes from the enrollment itself.
            var started = await StatusAsync(ct);
            return new AgentResponse(true, null, started with { DeviceId = started.DeviceId ?? deviceId });
        }
        finally
        {
            _changes.Release();
        }
    }

    private async Task<AgentResponse> LogoutAsync(AgentRequest request, CancellationToken ct)
    {
        await _changes.WaitAsync(ct);
        try
        {
            if (!_store.IsEnrolled)
            {
                return new AgentResponse(false, "This device is not enrolled.", await StatusAsync(ct));
            }

            if (ProfileInForce()?.LogoutPasswordHash is { } hash && (request.Password is null || !PasswordHasher.Verify(request.Password, hash)))
            {
                return new AgentResponse(false, request.Password is null ? "Your organisation requires a password to log out (--password-stdin)." : "The logout password is wrong.", await StatusAsync(ct));
            }

            await _dataPlane.StopAsync();
            _store.Delete();
            File.Delete(AgentPaths.DisabledMarker(_options.StateDirectory));
            AgentLog.LoggedOut(_logger);
            return new AgentResponse(true, null, await StatusAsync(ct));
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>
    /// Disables or enables the agent: a marker file keeps the choice across restarts, and the running
    /// data plane is told at once. Disabling needs the app profile's disable password when it sets one.
    /// </summary>
    private async Task<AgentResponse> SetDisabledAsync(AgentRequest request, bool disabled, CancellationToken ct)
    {
        await _changes.WaitAsync(ct);
        try
        {
            if (!_store.IsEnrolled)
            {
                return new AgentResponse(false, "This device is not enrolled.", await StatusAsync(ct));
            }

            if (disabled && ProfileInForce()?.DisablePasswordHash is { } hash && (request.Password is null || !PasswordHasher.Verify(request.Password, hash)))
            {
                return new AgentResponse(false, request.Password is null ? "Your organisation requires a password to disable the agent (--password-stdin)." : "The disable password is wrong.", await StatusAsync(ct));
            }

            var marker = AgentPaths.DisabledMarker(_options.StateDirectory);
            if (disabled)
            {
                await File.WriteAllTextAsync(marker, $"disabled at {DateTimeOffset.UtcNow:O}\n", ct);
            }
            else
            {
                File.Delete(marker);
            }

            try
            {
                await AgentLocalApi.CallAsync(AgentPaths.DataPlaneSocket(_options.StateDirectory), new AgentRequest(request.Command), ct);
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or InvalidDataException)
            {
                // Not running: it reads the marker when it starts.
            }

            return new AgentResponse(true, null, await StatusAsync(ct));
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>What the app profile in force says (from the verified last-known-good config).</summary>
    private Bundles.AgentBundle? ProfileInForce()
    {
        using var credentials = _store.Load();
        if (credentials is null)
        {
            return null;
        }

        var identity = credentials.Identity;
        var document = _store.LastKnownGood.Load(identity.TenantId.ToString(), BundleConsumers.Agent);
        if (document is null)
        {
            return null;
        }

        var verified = new BundleVerifier([credentials.ConfigKeySpki], identity.TenantId.ToString(), BundleConsumers.Agent, TimeProvider.System).Verify(document, null);
        return verified.IsValid ? Bundles.AgentBundle.From(verified.Bundle!, Bundles.DeviceOwner.LoadGroups(_options.StateDirectory)) : null;
    }

    /// <summary>Removes what a dead data plane may have left: its status socket (and, with transparent mode, its nft table).</summary>
    /// <summary>Removes what a data plane that did not stop cleanly left: its socket and its nftables table, which would send traffic to a dead port.</summary>
    private void CleanUpDataPlane()
    {
        var socket = AgentPaths.DataPlaneSocket(_options.StateDirectory);
        if (File.Exists(socket))
        {
            File.Delete(socket);
            AgentLog.CleanedUp(_logger, socket);
        }

        if (_options.Transparent)
        {
            try
            {
                if (Transparent.NftRedirect.Remove())
                {
                    AgentLog.CleanedUp(_logger, $"nftables table inet {Transparent.NftRedirect.Table}");
                }
            }
            catch (InvalidOperationException e)
            {
                AgentLog.InterceptionFailed(_logger, e.Message);
            }
        }
    }

    private static RoleCommand DefaultDataPlane(AgentServiceOptions options)
    {
        List<string> arguments = ["dataplane", "--state-dir", options.StateDirectory, "--proxy-listen", options.ProxyListen, "--captive-portal-probe", options.CaptivePortalProbe];
        if (options.Transparent)
        {
            arguments.Add("--transparent");
        }

        if (options.ContentPoll is { } poll)
        {
            arguments.AddRange(["--content-poll", poll.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        if (options.ContentHealthWindow is { } window)
        {
            arguments.AddRange(["--content-health-window", window.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        foreach (var resolver in options.DrResolvers)
        {
            arguments.AddRange(["--dr-resolver", resolver.ToString()]);
        }

        return RoleCommand.ForThisProgram(arguments);
    }
}
