using System.Buffers;
using Gatehouse.Flows;
using Gatehouse.Policy.Decisions;
using Gatehouse.Wire.Logs;
using Gatehouse.Wire.Tls;

namespace Gatehouse.Edge.Flows;

/// <summary>
/// Decides the TLS server name (SNI) a flow's client sends first, as the flow's host was decided, so that a flow
/// allowed to one host cannot carry a TLS session with a blocked one (<c>CONNECT allowed.example:443</c>, then a
/// ClientHello for a blocked site on the same CDN). Given to <see cref="Relay"/> as the inspector of the first bytes:
/// a refused flow is cut before any byte reaches the destination. Used by CONNECT and by agent tunnel flows.
/// </summary>
/// <param name="decide">The decision for the flow with the server name as its host.</param>
/// <param name="refusal">The refusal a decision for that name means, or null when it allows the flow.</param>
internal sealed class ServerNameCheck(Func<string, Decision> decide, Func<Decision, string, RefusalReason?> refusal)
{
    private readonly ClientHelloReader _hello = new();
    private string? _refusedName;
    private Decision _decision;
    private RefusalReason? _refusal;

    /// <summary>The inspector <see cref="Relay"/> calls with the client's first bytes.</summary>
    public FirstBytesVerdict Inspect(ReadOnlySequence<byte> bytes, bool completed)
    {
        var status = _hello.Read(bytes, out var serverName);
        if (status == ClientHelloStatus.NeedMore && !completed)
        {
            return FirstBytesVerdict.NeedMore;
        }

        if (status == ClientHelloStatus.Malformed)
        {
            // No name can be decided; a TLS server refuses it too, unless it reads it differently.
            _refusal = new RefusalReason(TransactionActions.Denied, "the TLS ClientHello cannot be read, so its server name cannot be checked");
            return FirstBytesVerdict.Refuse;
        }

        if (status != ClientHelloStatus.Found || serverName is null)
        {
            return FirstBytesVerdict.Pass;
        }

        _decision = decide(serverName);
        if (refusal(_decision, serverName) is not { } refused)
        {
            return FirstBytesVerdict.Pass;
        }

        _refusedName = serverName;
        _refusal = refused with { Reason = $"TLS server name {serverName}: {refused.Reason}" };
        return FirstBytesVerdict.Refuse;
    }

    /// <summary>The flow's record, with the refusal in it when the check cut the flow.</summary>
    public TransactionLogRecord Applied(TransactionLogRecord record) => _refusal is not { } refused ? record : record with
    {
        Action = refused.Action,
        Rule = _refusedName is null ? record.Rule : _decision.RuleName,
        Category = _refusedName is null ? record.Category : _decision.Category,
        Reason = refused.Reason,
        ReferenceId = DataPath.NewReferenceId(),
    };
}
