using System.Buffers;
using Gatehouse.Flows;
using Gatehouse.Policy.Decisions;
using Gatehouse.Wire.Http;
using Gatehouse.Wire.Logs;
using Gatehouse.Wire.Tls;

namespace Gatehouse.Edge.Flows;

/// <summary>
/// What a flow's first request asks for: the server name of a TLS ClientHello (<see cref="FlowProtocol.Https"/>), or
/// the host and URL of a plain-HTTP request (<see cref="FlowProtocol.Http"/>; <see cref="Host"/> null when the request
/// names no host, or only an address, so that the flow's own destination stands).
/// </summary>
internal readonly record struct FirstRequest(string? Host, FlowProtocol Protocol, string? Url);

/// <summary>
/// Decides the first request a flow's client sends, as the flow's host was decided, so that a flow allowed to one
/// host cannot carry a request for a blocked one on the same address: <c>CONNECT allowed.example:443</c> then a TLS
/// ClientHello for a blocked site on the same CDN, or a flow to <c>allowed.example:80</c> then
/// <c>Host: blocked.example</c>. Given to <see cref="Relay"/> as the inspector of the first bytes: a refused flow is
/// cut before any byte reaches the destination. Used by CONNECT and by agent tunnel flows.
/// </summary>
/// <remarks>
/// Only the first request is read: later requests on a kept-alive plain-HTTP flow, and anything inside TLS, go on
/// as the flow was decided. Bytes that are neither TLS nor the start of an HTTP/1.x request pass unread.
/// </remarks>
/// <param name="flowHost">The host (or address) the flow was opened to: what a request that names no host goes to.</param>
/// <param name="decide">The decision for the flow with what its first request asks for.</param>
/// <param name="refusal">The refusal a decision for that host means, or null when it allows the flow.</param>
internal sealed class FirstRequestCheck(string flowHost, Func<FirstRequest, Decision> decide, Func<Decision, string, RefusalReason?> refusal)
{
    /// <summary>The longest plain-HTTP request head read, as the forward proxy's (larger ones are cut).</summary>
    public const int MaxHeadBytes = 32 * 1024;

    private ClientHelloReader? _hello;
    private RequestHead? _head;
    private bool _headFollows;
    private long _lineSearched;
    private long _headSearched;
    private string? _refusedHost;
    private Decision _decision;
    private RefusalReason? _refusal;
    private string? _method;
    private string? _url;
    private string? _serverName;

    /// <summary>The inspector <see cref="Relay"/> calls with the client's first bytes.</summary>
    public FirstBytesVerdict Inspect(ReadOnlySequence<byte> bytes, bool completed)
    {
        if (bytes.IsEmpty)
        {
            return completed ? FirstBytesVerdict.Pass : FirstBytesVerdict.NeedMore;
        }

        // Any TLS record type goes to the ClientHello reader: one that is not a handshake first is cut, not passed unread.
        return ClientHello.IsRecordType(bytes.FirstSpan[0]) ? InspectTls(bytes, completed) : InspectHttp(bytes, completed);
    }

    /// <summary>
    /// The flow's record: the first plain-HTTP request's method and URL when there was one, the TLS server name when a
    /// ClientHello carried one, and the refusal when the check cut the flow.
    /// </summary>
    public TransactionLogRecord Applied(TransactionLogRecord record)
    {
        if (_url is not null)
        {
            record = record with { Method = _method, Url = _url };
        }

        if (_serverName is not null)
        {
            record = record with { Sni = _serverName };
        }

        return _refusal is not { } refused ? record : record with
        {
            Action = refused.Action,
            Rule = _refusedHost is null ? record.Rule : _decision.RuleName,
            Category = _refusedHost is null ? record.Category : _decision.Category,
            Reason = refused.Reason,
            ReferenceId = DataPath.NewReferenceId(),
        };
    }

    private FirstBytesVerdict InspectTls(ReadOnlySequence<byte> bytes, bool completed)
    {
        var status = (_hello ??= new ClientHelloReader()).Read(bytes, out var serverName);
        if (status == ClientHelloStatus.NeedMore && !completed)
        {
            return FirstBytesVerdict.NeedMore;
        }

        if (status == ClientHelloStatus.Malformed)
        {
            // No name can be decided; a TLS server refuses it too, unless it reads it differently.
            return Unreadable(_hello.Problem is { } problem
                ? $"the TLS ClientHello cannot be read ({problem}), so its server name cannot be checked"
                : "the TLS ClientHello cannot be read, so its server name cannot be checked");
        }

        if (status != ClientHelloStatus.Found || serverName is null)
        {
            return FirstBytesVerdict.Pass;
        }

        _serverName = serverName;

        return Decide(new FirstRequest(serverName, FlowProtocol.Https, null), serverName, $"TLS server name {serverName}");
    }

    private FirstBytesVerdict InspectHttp(ReadOnlySequence<byte> bytes, bool completed)
    {
        // What has been read is not read again when more comes: a head trickled a byte at a time costs its length.
        if (!_headFollows)
        {
            var line = RequestLine.Read(bytes, MaxHeadBytes, ref _lineSearched);
            switch (line.Kind)
            {
                case RequestLineKind.NeedMore:
                    return completed ? FirstBytesVerdict.Pass : FirstBytesVerdict.NeedMore;
                case RequestLineKind.NotHttp:
                    return FirstBytesVerdict.Pass;
                case RequestLineKind.Unreadable:
                    return Unreadable($"the HTTP request line cannot be read ({line.Error}), so its host cannot be checked");
                case RequestLineKind.NoHeaders:
                    // HTTP/0.9's form, "GET /path": no headers follow, so only an absolute target can name a host.
                    return DecideTarget(line.Method!, line.Target!, hostHeader: null);
            }

            _headFollows = true;
        }

        var head = _head ??= new RequestHead();
        switch (head.TryRead(bytes, MaxHeadBytes, ref _headSearched, out _))
        {
            case HeadStatus.Incomplete:
                // A client that ends in the middle of a head sends a destination nothing it could act on.
                return completed ? FirstBytesVerdict.Pass : FirstBytesVerdict.NeedMore;
            case HeadStatus.TooLarge:
                return Unreadable($"the HTTP request head is longer than {MaxHeadBytes / 1024} KiB, so its host cannot be checked");
            case HeadStatus.Malformed:
                return Unreadable($"the HTTP request cannot be read ({head.Error}), so its host cannot be checked");
        }

        return DecideTarget(head.Method, head.Target, head.Host);
    }

    private FirstBytesVerdict DecideTarget(string method, string target, string? hostHeader)
    {
        if (!TryReadDestination(target, hostHeader, out var request, out var named))
        {
            return Unreadable("the HTTP request's target or Host header is not a valid host, so its host cannot be checked");
        }

        _method = method;
        _url = request.Url;
        return Decide(request, named, $"HTTP request for {request.Url}");
    }

    /// <summary>
    /// Where the request goes: the host of an absolute-form target, else of the Host header (RFC 9112 section 3.2.2),
    /// else the flow's own; and the URL as the records show it. <paramref name="named"/> is the host a refusal names.
    /// </summary>
    private bool TryReadDestination(string target, string? hostHeader, out FirstRequest request, out string named)
    {
        request = default;
        named = flowHost;
        if (!target.StartsWith('/') && target != "*")
        {
            if (!Target.TryParseAbsolute(target, out var absolute, out _))
            {
                return false;
            }

            named = absolute.Host;
            request = new FirstRequest(absolute.IsAddress ? null : absolute.Host, FlowProtocol.Http, $"http://{absolute.Authority}{absolute.PathAndQuery}");
            return true;
        }

        var path = target == "*" ? "/" : target;
        if (hostHeader is not { Length: > 0 })
        {
            request = new FirstRequest(null, FlowProtocol.Http, $"http://{flowHost}{path}");
            return true;
        }

        if (!Target.TryParseAuthority(hostHeader, defaultPort: 80, out var authority))
        {
            return false;
        }

        named = authority.Host;
        request = new FirstRequest(authority.IsAddress ? null : authority.Host, FlowProtocol.Http, $"http://{authority.Authority}{path}");
        return true;
    }

    private FirstBytesVerdict Decide(FirstRequest request, string named, string what)
    {
        _decision = decide(request);
        if (refusal(_decision, named) is not { } refused)
        {
            return FirstBytesVerdict.Pass;
        }

        _refusedHost = named;
        _refusal = refused with { Reason = $"{what}: {refused.Reason}" };
        return FirstBytesVerdict.Refuse;
    }

    private FirstBytesVerdict Unreadable(string reason)
    {
        _refusal = new RefusalReason(TransactionActions.Denied, reason);
        return FirstBytesVerdict.Refuse;
    }
}
