using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gatehouse.Edge.TransactionLogs;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Edge.Tests.TransactionLogs;

public sealed partial class SyslogTcpSinkTests
{
    private static TransactionLogOptions Options(SyslogReceiver siem) => new()
    {
        ShipToPortal = false,
        SyslogEndpoint = siem.Endpoint,
        FlushInterval = TimeSpan.FromMilliseconds(20),
        MinRetryDelay = TimeSpan.FromMilliseconds(50),
        MaxRetryDelay = TimeSpan.FromMilliseconds(200),
    };

    // <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA SP BOM MSG
    [GeneratedRegex(@"^<(?<pri>\d{1,3})>1 (?<time>\S+) (?<host>\S+) (?<app>\S+) (?<proc>\S+) (?<msgid>\S+) (?<sd>\[.*?(?<!\\)\]) \uFEFF(?<msg>\{.*\})$", RegexOptions.Singleline)]
    private static partial Regex Rfc5424();

    [Fact]
    public async Task Records_arrive_as_octet_counted_rfc5424_messages_with_escaped_structured_data()
    {
        using var siem = SyslogReceiver.Start();
        var allowed = TestRecords.Flow(1);

        // A rule name with every character SD-PARAM escaping is for, and a multi-byte email, so octets are not characters.
        var blocked = TestRecords.Flow(2, TransactionActions.Block) with { Rule = "say \"no\" \\ to [gambling]", UserEmail = "zoë@example.com", Status = 403, Method = "CONNECT", Sni = "www.casino.example" };
        await using (var log = new TransactionLog(Options(siem) with { SyslogFacility = 20 }))
        {
            Assert.True(log.Write(allowed));
            Assert.True(log.Write(blocked));
            await siem.WaitForAsync(2);
        }

        var messages = siem.Messages.Select(bytes => Encoding.UTF8.GetString(bytes)).ToArray();
        Assert.Equal(2, messages.Length);
        Assert.All(siem.Messages, bytes => Assert.True(bytes.AsSpan().IndexOf((ReadOnlySpan<byte>)[(byte)']', (byte)' ', 0xEF, 0xBB, 0xBF, (byte)'{']) > 0, "MSG is UTF-8 after a byte order mark"));

        var first = Rfc5424().Match(messages[0]);
        Assert.True(first.Success, messages[0]);
        Assert.Equal((20 * 8) + 6, int.Parse(first.Groups["pri"].Value, CultureInfo.InvariantCulture));
        Assert.Equal("2026-11-22T10:41:03.124000Z", first.Groups["time"].Value);
        Assert.Equal(Environment.MachineName, first.Groups["host"].Value);
        Assert.Equal("gatehouse-edge", first.Groups["app"].Value);
        Assert.Equal(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), first.Groups["proc"].Value);
        Assert.Equal("allow", first.Groups["msgid"].Value);
        Assert.Equal(allowed, JsonSerializer.Deserialize<TransactionLogRecord>(first.Groups["msg"].Value, JsonSerializerOptions.Web));
        var sd = ParseStructuredData(first.Groups["sd"].Value);
        Assert.Equal("gatehouse@32473", sd.Id);
        Assert.Equal(allowed.TenantId, sd.Params["tenant"]);
        Assert.Equal("alice@example.com", sd.Params["user"]);
        Assert.Equal("allow", sd.Params["action"]);
        Assert.Equal("site1.example", sd.Params["host"]);
        Assert.Equal("443", sd.Params["port"]);
        Assert.False(sd.Params.ContainsKey("rule"), "absent values are left out");
        Assert.False(sd.Params.ContainsKey("sni"), "absent values are left out");

        var second = Rfc5424().Match(messages[1]);
        Assert.True(second.Success, messages[1]);
        Assert.Equal((20 * 8) + 5, int.Parse(second.Groups["pri"].Value, CultureInfo.InvariantCulture));
        Assert.Equal("block", second.Groups["msgid"].Value);
        Assert.Contains("rule=\"say \\\"no\\\" \\\\ to [gambling\\]\"", second.Groups["sd"].Value, StringComparison.Ordinal);
        sd = ParseStructuredData(second.Groups["sd"].Value);
        Assert.Equal(blocked.Rule, sd.Params["rule"]);
        Assert.Equal("zoë@example.com", sd.Params["user"]);
        Assert.Equal("403", sd.Params["status"]);
        Assert.Equal("CONNECT", sd.Params["method"]);
        Assert.Equal("www.casino.example", sd.Params["sni"]);
        Assert.Equal(blocked, JsonSerializer.Deserialize<TransactionLogRecord>(second.Groups["msg"].Value, JsonSerializerOptions.Web));
    }

    [Fact]
    public async Task The_sink_reconnects_when_the_siem_restarts_and_sends_what_was_written_meanwhile()
    {
        var siem = SyslogReceiver.Start();
        var port = siem.Port;
        await using var log = new TransactionLog(Options(siem));
        log.Write(TestRecords.Flow(1));
        await siem.WaitForAsync(1);

        siem.Dispose();

        // Loopback delivers the close at once; the sink sees it before its next batch.
        await Task.Delay(200);
        log.Write(TestRecords.Flow(2));
        await Task.Delay(300);
        using var restarted = SyslogReceiver.Start(port);

        var messages = await restarted.WaitForAsync(1);
        Assert.Contains("site2.example", Encoding.UTF8.GetString(messages[0]), StringComparison.Ordinal);
        log.Write(TestRecords.Flow(3));
        await restarted.WaitForAsync(2);
        Assert.Equal(1, restarted.Connections);

        // The sink counts a batch as written once its send returns, which can be after the SIEM has read it.
        await Eventually.TrueAsync(() => log.Status[0].Written == 3, () => $"{log.Status[0]}");
        Assert.Equal(new TransactionLogSinkStatus("syslog", 0, 65_536, 3, 0, 0, 0, 0), log.Status[0]);
    }

    [Fact]
    public void Structured_data_values_escape_quote_backslash_and_bracket_only()
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>();

        SyslogFormatter.WriteParamValue(output, "a\"b\\c]d[e=f ü");

        Assert.Equal("a\\\"b\\\\c\\]d[e=f ü", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    /// <summary>Parses one SD-ELEMENT as RFC 5424 section 6.3 defines it, undoing the escapes.</summary>
    private static (string Id, Dictionary<string, string> Params) ParseStructuredData(string element)
    {
        Assert.StartsWith("[", element, StringComparison.Ordinal);
        var i = 1;
        var idEnd = element.IndexOfAny([' ', ']'], i);
        var id = element[i..idEnd];
        i = idEnd;
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        while (element[i] == ' ')
        {
            var equals = element.IndexOf('=', i);
            var name = element[(i + 1)..equals];
            Assert.Equal('"', element[equals + 1]);
            var value = new StringBuilder();
            i = equals + 2;
            while (element[i] != '"')
            {
                if (element[i] == '\\' && element[i + 1] is '"' or '\\' or ']')
                {
                    i++;
                }
                else
                {
                    Assert.NotEqual(']', element[i]);
                }

                value.Append(element[i++]);
            }

            parameters.Add(name, value.ToString());
            i++;
        }

        Assert.Equal(element.Length - 1, i);
        Assert.Equal(']', element[i]);
        return (id, parameters);
    }
}
