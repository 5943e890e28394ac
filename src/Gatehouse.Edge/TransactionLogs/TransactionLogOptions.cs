using System.Globalization;
using Gatehouse.Edge.Hosting;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Edge.TransactionLogs;

/// <summary>
/// Where an edge's transaction logs go and how much it buffers: JSON-lines files, the portal, a SIEM
/// over syslog. Each enabled sink has its own queue of <see cref="QueueCapacity"/> records.
/// </summary>
public sealed record TransactionLogOptions
{
    /// <summary>The command-line flag of <see cref="Directory"/>.</summary>
    public const string DirectoryFlag = "--log-dir";

    /// <summary>The command-line flag of <see cref="MaxFileBytes"/> (<c>64MiB</c>, <c>512KiB</c>, or bytes).</summary>
    public const string MaxFileSizeFlag = "--log-max-file-size";

    /// <summary>The command-line flag of <see cref="MaxFiles"/>.</summary>
    public const string MaxFilesFlag = "--log-max-files";

    /// <summary>The command-line flag that turns <see cref="ShipToPortal"/> off.</summary>
    public const string NoPortalFlag = "--log-no-portal";

    /// <summary>The command-line flag of <see cref="SyslogEndpoint"/> (<c>HOST:PORT</c>).</summary>
    public const string SyslogFlag = "--syslog";

    /// <summary>The command-line flag of <see cref="SyslogFacility"/> (<c>local0</c>…<c>local7</c>, another facility name, or 0–23).</summary>
    public const string SyslogFacilityFlag = "--syslog-facility";

    /// <summary>The command-line flag of <see cref="QueueCapacity"/>.</summary>
    public const string QueueCapacityFlag = "--log-queue-capacity";

    /// <summary>The command-line flag of <see cref="BatchSize"/>.</summary>
    public const string BatchSizeFlag = "--log-batch-size";

    /// <summary>The command-line flag of <see cref="FlushInterval"/> (<c>1s</c>, <c>500ms</c>, <c>2m</c>).</summary>
    public const string FlushIntervalFlag = "--log-flush-interval";

    /// <summary>The default <see cref="MaxFileBytes"/>: 64 MiB.</summary>
    public const long DefaultMaxFileBytes = 64L * 1024 * 1024;

    /// <summary>The default <see cref="MaxFiles"/>.</summary>
    public const int DefaultMaxFiles = 10;

    /// <summary>The default <see cref="QueueCapacity"/>.</summary>
    public const int DefaultQueueCapacity = 65_536;

    /// <summary>The default <see cref="SyslogFacility"/>: local0.</summary>
    public const int DefaultSyslogFacility = 16;

    /// <summary>The smallest <see cref="MaxFileBytes"/>.</summary>
    public const long MinFileBytes = 1024;

    /// <summary>The largest <see cref="QueueCapacity"/>.</summary>
    public const int MaxQueueCapacity = 1 << 24;

    private static readonly string[] FacilityNames =
    [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
        "ntp", "security", "console", "solaris-cron", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    ];

    /// <summary>The directory of the JSON-lines files (<c>transactions.jsonl</c> and its rotations); <see langword="null"/> writes no files.</summary>
    public string? Directory { get; init; }

    /// <summary>The size at which <c>transactions.jsonl</c> is rotated; a file never grows past it unless one record alone is larger.</summary>
    public long MaxFileBytes { get; init; } = DefaultMaxFileBytes;

    /// <summary>How many rotated files are kept besides <c>transactions.jsonl</c>; older ones are deleted.</summary>
    public int MaxFiles { get; init; } = DefaultMaxFiles;

    /// <summary>Whether records are shipped to the portal (<c>POST /api/v1/edge/logs</c>).</summary>
    public bool ShipToPortal { get; init; } = true;

    /// <summary>The SIEM's syslog TCP endpoint as <c>HOST:PORT</c> (<c>[::1]:6514</c> for IPv6); <see langword="null"/> sends no syslog.</summary>
    public string? SyslogEndpoint { get; init; }

    /// <summary>The syslog facility code, 0–23; 16 is local0.</summary>
    public int SyslogFacility { get; init; } = DefaultSyslogFacility;

    /// <summary>How many records each sink queues at most (rounded up to a power of two, at least 2); beyond, records are dropped and counted.</summary>
    public int QueueCapacity { get; init; } = DefaultQueueCapacity;

    /// <summary>The most records a sink writes, posts or sends at once; at most <see cref="TransactionLogBatch.MaxRecords"/>.</summary>
    public int BatchSize { get; init; } = TransactionLogBatch.MaxRecords;

    /// <summary>How long a sink waits for a full batch before it writes what it has.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long <see cref="TransactionLog.DisposeAsync"/> keeps flushing queued records before it drops the rest.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The first wait before a failed post or syslog connection is tried again; doubled per failure.</summary>
    public TimeSpan MinRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between tries.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Checks every value.</summary>
    /// <returns>One message per bad value, naming the property; empty when the options are valid.</returns>
    public IReadOnlyList<string> Validate() => Check(static property => property);

    /// <summary>Throws <see cref="TransactionLogOptionsException"/> when <see cref="Validate"/> finds a problem.</summary>
    /// <exception cref="TransactionLogOptionsException">Some value is bad; its message lists every problem.</exception>
    public void EnsureValid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new TransactionLogOptionsException(errors);
        }
    }

    /// <summary>
    /// Builds options from command-line text, each argument <see langword="null"/> for its default, and
    /// checks them. Messages name the flag (<see cref="DirectoryFlag"/> and the other <c>…Flag</c> constants).
    /// </summary>
    /// <param name="directory"><see cref="DirectoryFlag"/>.</param>
    /// <param name="maxFileSize"><see cref="MaxFileSizeFlag"/>: bytes, or a number with <c>KiB</c>, <c>MiB</c>, <c>GiB</c> (also <c>K</c>, <c>M</c>, <c>G</c>).</param>
    /// <param name="maxFiles"><see cref="MaxFilesFlag"/>.</param>
    /// <param name="shipToPortal"><see langword="false"/> for <see cref="NoPortalFlag"/>.</param>
    /// <param name="syslog"><see cref="SyslogFlag"/>: <c>HOST:PORT</c>.</param>
    /// <param name="syslogFacility"><see cref="SyslogFacilityFlag"/>: a name such as <c>local0</c>, or 0–23.</param>
    /// <param name="queueCapacity"><see cref="QueueCapacityFlag"/>.</param>
    /// <param name="batchSize"><see cref="BatchSizeFlag"/>.</param>
    /// <param name="flushInterval"><see cref="FlushIntervalFlag"/>: <c>500ms</c>, <c>1s</c>, <c>2m</c>.</param>
    /// <returns>The checked options.</returns>
    /// <exception cref="TransactionLogOptionsException">Some value is bad; <see cref="TransactionLogOptionsException.Errors"/> has one message per problem.</exception>
    public static TransactionLogOptions Parse(
        string? directory = null,
        string? maxFileSize = null,
        string? maxFiles = null,
        bool shipToPortal = true,
        string? syslog = null,
        string? syslogFacility = null,
        string? queueCapacity = null,
        string? batchSize = null,
        string? flushInterval = null)
    {
        var errors = new List<string>();
        var options = new TransactionLogOptions { ShipToPortal = shipToPortal };
        if (directory is not null)
        {
            if (string.IsNullOrWhiteSpace(directory))
            {
                errors.Add($"{DirectoryFlag} must name a directory, not an empty value.");
            }

            options = options with { Directory = directory };
        }

        if (maxFileSize is not null)
        {
            if (Quantities.TryParseSize(maxFileSize, out var bytes))
            {
                options = options with { MaxFileBytes = bytes };
            }
            else
            {
                errors.Add($"{MaxFileSizeFlag} must be a size such as 64MiB, 512KiB or 1048576 (bytes), not \"{maxFileSize}\".");
            }
        }

        options = ParseInt(maxFiles, MaxFilesFlag, errors, options, static (o, v) => o with { MaxFiles = v });
        if (syslog is not null)
        {
            options = options with { SyslogEndpoint = syslog };
        }

        if (syslogFacility is not null)
        {
            if (TryParseFacility(syslogFacility, out var facility))
            {
                options = options with { SyslogFacility = facility };
            }
            else
            {
                errors.Add($"{SyslogFacilityFlag} must be a syslog facility such as local0 … local7, or a number from 0 to 23, not \"{syslogFacility}\".");
            }
        }

        options = ParseInt(queueCapacity, QueueCapacityFlag, errors, options, static (o, v) => o with { QueueCapacity = v });
        options = ParseInt(batchSize, BatchSizeFlag, errors, options, static (o, v) => o with { BatchSize = v });
        if (flushInterval is not null)
        {
            if (Quantities.TryParseDuration(flushInterval, out var interval))
            {
                options = options with { FlushInterval = interval };
            }
            else
            {
                errors.Add($"{FlushIntervalFlag} must be a duration such as 500ms, 1s or 2m, not \"{flushInterval}\".");
            }
        }

        // Range checks only for values that parsed, so that one bad value gives one message.
        foreach (var error in options.Check(FlagOf))
        {
            var flag = error[..(error.IndexOf(' ', StringComparison.Ordinal) + 1)];
            if (!errors.Exists(e => e.StartsWith(flag, StringComparison.Ordinal)))
            {
                errors.Add(error);
            }
        }

        if (errors.Count > 0)
        {
            throw new TransactionLogOptionsException(errors);
        }

        return options;
    }

    /// <summary>Parses a syslog facility: a name (<c>local0</c>, <c>daemon</c>, …) or its code 0–23.</summary>
    /// <param name="text">The text.</param>
    /// <param name="facility">The facility code.</param>
    /// <returns>Whether the text names a facility.</returns>
    public static bool TryParseFacility(string? text, out int facility)
    {
        facility = 0;
        if (text is null)
        {
            return false;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out facility))
        {
            return facility <= 23;
        }

        facility = Array.FindIndex(FacilityNames, name => name.Equals(text.Trim(), StringComparison.OrdinalIgnoreCase));
        return facility >= 0;
    }

    private List<string> Check(Func<string, string> name)
    {
        var errors = new List<string>();
        if (Directory is not null && string.IsNullOrWhiteSpace(Directory))
        {
            errors.Add($"{name(nameof(Directory))} must name a directory, or be left out for no files.");
        }

        if (MaxFileBytes < MinFileBytes)
        {
            errors.Add($"{name(nameof(MaxFileBytes))} must be at least {MinFileBytes} bytes, not {MaxFileBytes}.");
        }

        if (MaxFiles is < 1 or > 10_000)
        {
            errors.Add($"{name(nameof(MaxFiles))} must be from 1 to 10000 (rotated files kept), not {MaxFiles}.");
        }

        if (SyslogEndpoint is not null && !HostPort.TryParse(SyslogEndpoint, out _, out _))
        {
            errors.Add($"{name(nameof(SyslogEndpoint))} must be HOST:PORT with a port from 1 to 65535 (IPv6 as [::1]:6514), not \"{SyslogEndpoint}\".");
        }

        if (SyslogFacility is < 0 or > 23)
        {
            errors.Add($"{name(nameof(SyslogFacility))} must be a syslog facility code from 0 to 23 (16 is local0), not {SyslogFacility}.");
        }

        if (QueueCapacity is < 1 or > MaxQueueCapacity)
        {
            errors.Add($"{name(nameof(QueueCapacity))} must be from 1 to {MaxQueueCapacity} records, not {QueueCapacity}.");
        }

        if (BatchSize is < 1 or > TransactionLogBatch.MaxRecords)
        {
            errors.Add($"{name(nameof(BatchSize))} must be from 1 to {TransactionLogBatch.MaxRecords} records (the portal's limit per batch), not {BatchSize}.");
        }

        if (FlushInterval < TimeSpan.Zero || FlushInterval > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{name(nameof(FlushInterval))} must be from 0 to 10 minutes, not {FlushInterval}.");
        }

        if (ShutdownTimeout < TimeSpan.Zero || ShutdownTimeout > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{name(nameof(ShutdownTimeout))} must be from 0 to 10 minutes, not {ShutdownTimeout}.");
        }

        if (MinRetryDelay <= TimeSpan.Zero || MaxRetryDelay < MinRetryDelay || MaxRetryDelay > TimeSpan.FromHours(1))
        {
            errors.Add($"{name(nameof(MinRetryDelay))} must be positive and at most {name(nameof(MaxRetryDelay))}, which must be at most an hour; not {MinRetryDelay} and {MaxRetryDelay}.");
        }

        return errors;
    }

    private static string FlagOf(string property) => property switch
    {
        nameof(Directory) => DirectoryFlag,
        nameof(MaxFileBytes) => MaxFileSizeFlag,
        nameof(MaxFiles) => MaxFilesFlag,
        nameof(SyslogEndpoint) => SyslogFlag,
        nameof(SyslogFacility) => SyslogFacilityFlag,
        nameof(QueueCapacity) => QueueCapacityFlag,
        nameof(BatchSize) => BatchSizeFlag,
        nameof(FlushInterval) => FlushIntervalFlag,
        _ => property,
    };

    private static TransactionLogOptions ParseInt(string? text, string flag, List<string> errors, TransactionLogOptions options, Func<TransactionLogOptions, int, TransactionLogOptions> apply)
    {
        if (text is null)
        {
            return options;
        }

        if (int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return apply(options, value);
        }

        errors.Add($"{flag} must be a whole number, not \"{text}\".");
        return options;
    }
}

/// <summary>Transaction log options that cannot be used; nothing was started.</summary>
public sealed class TransactionLogOptionsException : ArgumentException
{
    /// <summary>Creates the exception from its problems.</summary>
    /// <param name="errors">One message per bad value.</param>
    public TransactionLogOptionsException(IReadOnlyList<string> errors)
        : base(string.Join(Environment.NewLine, errors ?? []))
    {
        Errors = errors ?? [];
    }

    /// <summary>One message per bad value, each naming the flag or property.</summary>
    public IReadOnlyList<string> Errors { get; }
}
