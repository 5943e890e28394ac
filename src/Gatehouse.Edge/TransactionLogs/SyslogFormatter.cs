using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Edge.TransactionLogs;

/// <summary>
/// Formats records as RFC 5424 syslog messages framed by octet counting (RFC 6587 section 3.4.1):
/// <c>LEN SP &lt;PRI&gt;1 TIMESTAMP HOSTNAME gatehouse-edge PROCID MSGID [gatehouse@32473 …] BOM{json}</c>.
/// </summary>
/// <remarks>
/// The TIMESTAMP is the record's time in UTC with microseconds. Blocks and refusals are severity
/// notice (5), everything else informational (6). MSG is the record's JSON, UTF-8 after a byte
/// order mark as RFC 5424 section 6.4 asks, so that receivers know it is UTF-8.
/// </remarks>
internal sealed class SyslogFormatter
{
    /// <summary>The structured data element's id: "gatehouse" at the documentation enterprise number (RFC 5612).</summary>
    public const string SdId = "gatehouse@32473";

    /// <summary>APP-NAME of every message.</summary>
    public const string AppName = "gatehouse-edge";

    private const int Notice = 5;
    private const int Informational = 6;

    private readonly int _facility;
    private readonly byte[] _hostAppProc;
    private readonly ArrayBufferWriter<byte> _message = new(4096);
    private readonly ArrayBufferWriter<byte> _json = new(2048);
    private readonly Utf8JsonWriter _jsonWriter;

    /// <summary>Creates a formatter for one facility and host.</summary>
    /// <param name="facility">The facility code, 0–23.</param>
    /// <param name="hostName">HOSTNAME; characters outside printable US-ASCII become <c>-</c>.</param>
    /// <param name="processId">PROCID.</param>
    public SyslogFormatter(int facility, string hostName, int processId)
    {
        _facility = facility;
        _hostAppProc = Encoding.ASCII.GetBytes($" {HeaderField(hostName, 255)} {AppName} {processId.ToString(CultureInfo.InvariantCulture)} ");
        _jsonWriter = new Utf8JsonWriter(_json);
    }

    /// <summary>Appends one framed message (<c>LEN SP MSG</c>) to <paramref name="output"/>.</summary>
    public void AppendFrame(IBufferWriter<byte> output, TransactionLogRecord record)
    {
        _message.ResetWrittenCount();
        WriteMessage(_message, record);

        var length = output.GetSpan(11);
        Utf8Formatter.TryFormat(_message.WrittenCount, length, out var digits);
        length[digits] = (byte)' ';
        output.Advance(digits + 1);
        output.Write(_message.WrittenSpan);
    }

    /// <summary>Writes one unframed RFC 5424 message.</summary>
    public void WriteMessage(IBufferWriter<byte> output, TransactionLogRecord record)
    {
        var severity = record.Action is TransactionActions.Block or TransactionActions.Denied ? Notice : Informational;
        output.Write("<"u8);
        WriteNumber(output, (_facility * 8) + severity);
        output.Write(">1 "u8);

        var time = output.GetSpan(32);
        record.Time.UtcDateTime.TryFormat(time, out var written, "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
        output.Advance(written);

        output.Write(_hostAppProc);
        WriteMsgId(output, record.Action);

        output.Write(" ["u8);
        output.Write("gatehouse@32473"u8);
        WriteParam(output, " tenant=\""u8, record.TenantId);
        WriteParam(output, " edge=\""u8, record.EdgeId);
        WriteParam(output, " kind=\""u8, record.Kind);
        WriteParam(output, " listener=\""u8, record.Listener);
        WriteParam(output, " action=\""u8, record.Action);
        WriteParam(output, " user=\""u8, record.UserEmail ?? record.UserId);
        WriteParam(output, " device=\""u8, record.DeviceId);
        WriteParam(output, " client=\""u8, record.ClientAddress);
        WriteParam(output, " host=\""u8, record.Host);
        output.Write(" port=\""u8);
        WriteNumber(output, record.Port);
        output.Write("\""u8);
        WriteParam(output, " sni=\""u8, record.Sni);
        WriteParam(output, " method=\""u8, record.Method);
        if (record.Status is { } status)
        {
            output.Write(" status=\""u8);
            WriteNumber(output, status);
            output.Write("\""u8);
        }

        WriteParam(output, " rule=\""u8, record.Rule);
        WriteParam(output, " category=\""u8, record.Category);
        WriteParam(output, " ref=\""u8, record.ReferenceId);
        output.Write("] "u8);

        output.Write("\uFEFF"u8);
        _json.ResetWrittenCount();
        _jsonWriter.Reset(_json);
        JsonSerializer.Serialize(_jsonWriter, record, TransactionLogJson.Default.TransactionLogRecord);
        _jsonWriter.Flush();
        output.Write(_json.WrittenSpan);
    }

    /// <summary>Escapes a PARAM-VALUE: <c>"</c>, <c>\</c> and <c>]</c> get a backslash (RFC 5424 section 6.3.3).</summary>
    internal static void WriteParamValue(IBufferWriter<byte> output, string value)
    {
        var utf8 = output.GetSpan(Encoding.UTF8.GetMaxByteCount(value.Length) * 2);
        var count = Encoding.UTF8.GetBytes(value, utf8);
        var escapes = 0;
        foreach (var b in utf8[..count])
        {
            if (b is (byte)'"' or (byte)'\\' or (byte)']')
            {
                escapes++;
            }
        }

        if (escapes > 0)
        {
            // Shift from the end so the escapes fit in place.
            var target = count + escapes;
            for (int from = count - 1, to = target - 1; from >= 0; from--)
            {
                var b = utf8[from];
                utf8[to--] = b;
                if (b is (byte)'"' or (byte)'\\' or (byte)']')
                {
                    utf8[to--] = (byte)'\\';
                }
            }

            count = target;
        }

        output.Advance(count);
    }

    private static void WriteParam(IBufferWriter<byte> output, ReadOnlySpan<byte> nameAndQuote, string? value)
    {
        if (value is null)
        {
            return;
        }

        output.Write(nameAndQuote);
        WriteParamValue(output, value);
        output.Write("\""u8);
    }

    private static void WriteMsgId(IBufferWriter<byte> output, string action)
    {
        // MSGID is 1–32 printable US-ASCII characters; the actions are, but a record is not trusted to be.
        var valid = action.Length is > 0 and <= 32;
        foreach (var c in action)
        {
            valid &= c is > ' ' and <= '~';
        }

        if (!valid)
        {
            output.Write("transaction"u8);
            return;
        }

        var span = output.GetSpan(action.Length);
        for (var i = 0; i < action.Length; i++)
        {
            span[i] = (byte)action[i];
        }

        output.Advance(action.Length);
    }

    private static void WriteNumber(IBufferWriter<byte> output, long value)
    {
        var span = output.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out var written);
        output.Advance(written);
    }

    private static string HeaderField(string value, int maxLength)
    {
        var chars = new StringBuilder(Math.Min(value.Length, maxLength));
        foreach (var c in value)
        {
            if (chars.Length == maxLength)
            {
                break;
            }

            chars.Append(c is > ' ' and <= '~' ? c : '-');
        }

        return chars.Length == 0 ? "-" : chars.ToString();
    }
}
