using System.CommandLine;
using Gatehouse.Edge.Hosting;
using Gatehouse.Edge.TransactionLogs;
using Gatehouse.Flows;

namespace Gatehouse.Edge.Commands;

/// <summary>The options of <c>gatehouse-edge run</c>, and how the values given become <see cref="EdgeOptions"/>.</summary>
internal sealed class RunFlags
{
    private readonly Option<string> _stateDir;

    private readonly Option<string> _opsListen = new("--ops-listen")
    {
        Description = $"Where /healthz and /metrics listen (default {EdgeOptions.DefaultOpsListen}).",
        DefaultValueFactory = _ => EdgeOptions.DefaultOpsListen,
    };

    private readonly Option<string> _proxyListen = new("--proxy-listen")
    {
        Description = $"Where the agentless forward proxy listens, ADDRESS:PORT, or \"off\" (default {EdgeOptions.DefaultProxyListen}).",
        DefaultValueFactory = _ => EdgeOptions.DefaultProxyListen,
    };

    private readonly Option<string> _tunnelListen = new("--tunnel-listen")
    {
        Description = $"Where the agent tunnel listener (HTTP/2, mutual TLS) listens, ADDRESS:PORT, or \"off\" (default {EdgeOptions.DefaultTunnelListen}).",
        DefaultValueFactory = _ => EdgeOptions.DefaultTunnelListen,
    };

    private readonly Option<string?> _proxyAddress = new("--proxy-address") { Description = "The proxy address clients use, HOST:PORT, written into the PAC file (default: the listen address)." };

    private readonly Option<string[]> _allowEgress = new("--allow-egress")
    {
        Description = "A range the edge may reach although egress safety refuses it (loopback, link-local, its own addresses); repeatable. Example: 127.0.0.0/8.",
        AllowMultipleArgumentsPerToken = false,
    };

    private readonly Option<string[]> _managementNetwork = new("--management-network") { Description = "The edge's own management network, refused as a destination; repeatable. Example: 10.20.0.0/16." };
    private readonly Option<string?> _logDir = new(TransactionLogOptions.DirectoryFlag) { Description = "Where transaction logs are written as rotating JSON-lines files, or \"off\" (default: logs/ in the state directory)." };
    private readonly Option<string?> _logMaxFileSize = new(TransactionLogOptions.MaxFileSizeFlag) { Description = "Rotate a log file at this size, for example 64MiB (default 64MiB)." };
    private readonly Option<string?> _logMaxFiles = new(TransactionLogOptions.MaxFilesFlag) { Description = "Rotated log files to keep (default 10)." };
    private readonly Option<bool> _logNoPortal = new(TransactionLogOptions.NoPortalFlag) { Description = "Do not ship transaction logs to the portal." };
    private readonly Option<string?> _syslog = new(TransactionLogOptions.SyslogFlag) { Description = "Stream transaction logs to a SIEM as RFC 5424 syslog over TCP, HOST:PORT." };
    private readonly Option<string?> _syslogFacility = new(TransactionLogOptions.SyslogFacilityFlag) { Description = "The syslog facility (default local0)." };
    private readonly Option<string?> _logQueueCapacity = new(TransactionLogOptions.QueueCapacityFlag) { Description = $"Records each log sink queues at most; past it records are dropped and counted (default {TransactionLogOptions.DefaultQueueCapacity})." };
    private readonly Option<string?> _logBatchSize = new(TransactionLogOptions.BatchSizeFlag) { Description = $"Records per file write, portal post or syslog send, at most {Wire.Logs.TransactionLogBatch.MaxRecords} (default {Wire.Logs.TransactionLogBatch.MaxRecords})." };
    private readonly Option<string?> _logFlushInterval = new(TransactionLogOptions.FlushIntervalFlag) { Description = "How long a log sink waits for a full batch before it writes what it has, for example 500ms (default 1s)." };
    private readonly Option<bool> _dr = new("--dr") { Description = "Disaster-recovery mode: enforce the tenant's DR policy (the DR bundle) instead of its policy; keeps working with no portal." };
    private readonly Option<string?> _drBundle = new("--dr-bundle") { Description = "A DR bundle from `gatehouse dr export`, put in force at start when newer than the one on disk (implies --dr)." };
    private readonly Option<bool> _noPrivateRelay = new("--no-private-relay") { Description = "Carry every private flow on the connector link's HTTP/2 stream instead of relaying agents' flows end to end (a new flow's first byte sooner, bulk slower)." };
    private readonly Dictionary<LimitFlag, Option<string?>> _limits = LimitFlag.All.ToDictionary(flag => flag, flag => new Option<string?>(flag.Name) { Description = flag.Description, HelpName = flag.ValueName });

    /// <param name="stateDir">The state directory's option, which <c>enroll</c> shares.</param>
    public RunFlags(Option<string> stateDir)
    {
        _stateDir = stateDir;
    }

    /// <summary>Every option, in the order of the help.</summary>
    public IEnumerable<Option> All =>
    [
        _stateDir, _opsListen, _proxyListen, _tunnelListen, _proxyAddress, _allowEgress, _managementNetwork,
        _logDir, _logMaxFileSize, _logMaxFiles, _logNoPortal, _syslog, _syslogFacility, _logQueueCapacity, _logBatchSize, _logFlushInterval,
        _dr, _drBundle, _noPrivateRelay, .. _limits.Values,
    ];

    /// <summary>Reads the options given; every bad value is one message in <paramref name="errors"/>, naming its option.</summary>
    /// <param name="parse">The parsed command line.</param>
    /// <param name="errors">The problems, empty when the options are good.</param>
    /// <returns>The options, or null when some value is bad.</returns>
    public EdgeOptions? Read(ParseResult parse, out IReadOnlyList<string> errors)
    {
        var problems = new List<string>();
        errors = problems;
        var stateDirectory = parse.GetValue(_stateDir)!;
        var logDirectory = parse.GetValue(_logDir) ?? Path.Combine(stateDirectory, "logs");
        TransactionLogOptions? logs = null;
        try
        {
            logs = TransactionLogOptions.Parse(
                directory: logDirectory == "off" ? null : logDirectory,
                maxFileSize: parse.GetValue(_logMaxFileSize),
                maxFiles: parse.GetValue(_logMaxFiles),
                shipToPortal: !parse.GetValue(_logNoPortal),
                syslog: parse.GetValue(_syslog),
                syslogFacility: parse.GetValue(_syslogFacility),
                queueCapacity: parse.GetValue(_logQueueCapacity),
                batchSize: parse.GetValue(_logBatchSize),
                flushInterval: parse.GetValue(_logFlushInterval));
        }
        catch (TransactionLogOptionsException e)
        {
            problems.AddRange(e.Errors);
        }

        var limits = LimitFlag.Read(flag => parse.GetValue(_limits[flag]), problems);
        var opsListen = parse.GetValue(_opsListen)!;
        Checked(problems, () => ListenAddress.Parse(opsListen, "--ops-listen"));
        var proxyListen = Checked(problems, () => Listener(parse.GetValue(_proxyListen)!, "--proxy-listen"));
        var tunnelListen = Checked(problems, () => Listener(parse.GetValue(_tunnelListen)!, "--tunnel-listen"));
        var proxyAddress = Checked(problems, () => parse.GetValue(_proxyAddress) is { } given ? HostPort.Parse(given, "--proxy-address", EdgeOptions.ProxyAddressExample) : null);
        var egressAllow = Checked(problems, () => Ranges(parse.GetValue(_allowEgress), "--allow-egress"));
        var managementNetworks = Checked(problems, () => Ranges(parse.GetValue(_managementNetwork), "--management-network"));
        if (problems.Count > 0)
        {
            return null;
        }

        return new EdgeOptions
        {
            StateDirectory = stateDirectory,
            OpsListen = opsListen,
            ProxyListen = proxyListen,
            ProxyAdvertise = proxyAddress,
            TunnelListen = tunnelListen,
            EgressAllow = egressAllow!,
            ManagementNetworks = managementNetworks!,
            Logs = logs!,
            Limits = limits,
            DisasterRecovery = parse.GetValue(_dr) || parse.GetValue(_drBundle) is not null,
            DrBundleFile = parse.GetValue(_drBundle) is { } file ? Path.GetFullPath(file) : null,
            RelayPrivateFlows = !parse.GetValue(_noPrivateRelay),
        };
    }

    private static string? Listener(string text, string option) => text == "off" ? null : ListenAddress.Parse(text, option).ToString();

    private static IReadOnlyList<System.Net.IPNetwork> Ranges(string[]? texts, string option) => [.. (texts ?? []).Select(r => EgressGuard.ParseRange(r, option))];

    /// <summary>Runs <paramref name="read"/>; a <see cref="FormatException"/> from it is one more problem.</summary>
    private static T? Checked<T>(List<string> problems, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (FormatException e)
        {
            problems.Add(e.Message);
            return default;
        }
    }
}
