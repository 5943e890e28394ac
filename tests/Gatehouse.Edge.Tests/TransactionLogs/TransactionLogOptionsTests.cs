using Gatehouse.Edge.TransactionLogs;

namespace Gatehouse.Edge.Tests.TransactionLogs;

public sealed class TransactionLogOptionsTests
{
    [Fact]
    public void The_defaults_are_valid_and_ship_to_the_portal_only()
    {
        var options = new TransactionLogOptions();

        Assert.Empty(options.Validate());
        Assert.True(options.ShipToPortal);
        Assert.Null(options.Directory);
        Assert.Null(options.SyslogEndpoint);
        Assert.Equal(64L * 1024 * 1024, options.MaxFileBytes);
        Assert.Equal(1000, options.BatchSize);
        Assert.Equal(16, options.SyslogFacility);
    }

    [Fact]
    public void Command_line_text_becomes_options()
    {
        var options = TransactionLogOptions.Parse(
            directory: "/var/log/gatehouse", maxFileSize: "16MiB", maxFiles: "3", shipToPortal: false,
            syslog: "127.0.0.1:6514", syslogFacility: "local3", queueCapacity: "1024", batchSize: "200", flushInterval: "250ms");

        Assert.Equal("/var/log/gatehouse", options.Directory);
        Assert.Equal(16L * 1024 * 1024, options.MaxFileBytes);
        Assert.Equal(3, options.MaxFiles);
        Assert.False(options.ShipToPortal);
        Assert.Equal("127.0.0.1:6514", options.SyslogEndpoint);
        Assert.Equal(19, options.SyslogFacility);
        Assert.Equal(1024, options.QueueCapacity);
        Assert.Equal(200, options.BatchSize);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.FlushInterval);
    }

    [Fact]
    public void Every_bad_value_gets_a_message_that_names_its_flag_and_value()
    {
        var e = Assert.Throws<TransactionLogOptionsException>(() => TransactionLogOptions.Parse(
            maxFileSize: "64 parsecs", maxFiles: "0", syslog: "127.0.0.1", syslogFacility: "local9",
            queueCapacity: "lots", batchSize: "5000", flushInterval: "1w"));

        Assert.Equal(7, e.Errors.Count);
        Assert.Contains(e.Errors, m => m.StartsWith("--log-max-file-size", StringComparison.Ordinal) && m.Contains("\"64 parsecs\"", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("--log-max-files must be from 1 to 10000", StringComparison.Ordinal) && m.EndsWith("not 0.", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("--syslog must be HOST:PORT", StringComparison.Ordinal) && m.Contains("\"127.0.0.1\"", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("--syslog-facility", StringComparison.Ordinal) && m.Contains("\"local9\"", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("--log-queue-capacity must be a whole number", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("--log-batch-size must be from 1 to 1000", StringComparison.Ordinal) && m.EndsWith("not 5000.", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("--log-flush-interval", StringComparison.Ordinal) && m.Contains("\"1w\"", StringComparison.Ordinal));
        Assert.Equal(string.Join(Environment.NewLine, e.Errors), e.Message);
    }

    [Fact]
    public void Options_set_in_code_are_checked_by_property_name()
    {
        var options = new TransactionLogOptions { MaxFileBytes = 10, QueueCapacity = 0, SyslogFacility = 24 };

        var errors = options.Validate();

        Assert.Equal(3, errors.Count);
        Assert.StartsWith("MaxFileBytes must be at least 1024 bytes, not 10.", errors[0], StringComparison.Ordinal);
        Assert.Throws<TransactionLogOptionsException>(options.EnsureValid);
    }

    [Theory]
    [InlineData("local0", 16)]
    [InlineData("LOCAL7", 23)]
    [InlineData("daemon", 3)]
    [InlineData("13", 13)]
    public void Facilities_parse_by_name_or_code(string text, int code)
    {
        Assert.True(TransactionLogOptions.TryParseFacility(text, out var parsed));
        Assert.Equal(code, parsed);
    }
}
