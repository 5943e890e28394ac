using System.Text.Json;
using Gatehouse.Policy.Decisions;
using Gatehouse.Policy.Explain;
using Gatehouse.Portal.Api;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Users;
using Gatehouse.Wire.Policy;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Policies;

/// <summary><c>POST /policy/explain</c>: how the tenant's edges decide a flow, rule by rule.</summary>
internal static class PolicyExplainEndpoints
{
    public static RouteGroupBuilder MapPolicyExplain(this RouteGroupBuilder api)
    {
        api.MapPost("/policy/explain", ExplainAsync).WithTags("policy").RequireAuthorization(AuthPolicies.Read);
        return api;
    }

    private static async Task<PolicyExplainResponse> ExplainAsync(
        PolicyExplainRequest request, Caller caller, PortalDbContext db, PolicyExplainer explainer, TimeProvider time, CancellationToken ct)
    {
        var flow = await FlowAsync(request, db, time, ct);
        var policy = await explainer.PolicyAsync(caller.TenantId, ct);
        return ToResponse(policy.Explain(flow));
    }

    /// <summary>Checks the request (each failure names its field) and turns it into the flow an edge would decide.</summary>
    private static async Task<FlowContext> FlowAsync(PolicyExplainRequest request, PortalDbContext db, TimeProvider time, CancellationToken ct)
    {
        string? email = null;
        if (request.User is not null)
        {
            email = Validate.Email(request.User, "user");
            if (!await db.Set<User>().AnyAsync(u => u.Email == email, ct))
            {
                throw PortalException.Invalid("user", $"no such user: '{email}'.");
            }
        }

        var host = request.Host is null ? null : Validate.Domain(request.Host, "host", allowWildcard: false);
        var ip = request.Ip is null ? null : Validate.AddressOrNull(request.Ip);
        if (request.Ip is not null && ip is null)
        {
            throw PortalException.Invalid("ip", $"ip is not an IPv4 or IPv6 address: '{request.Ip}'.");
        }

        if (request.Port is { } port && port is < 1 or > 65535)
        {
            throw PortalException.Invalid("port", $"port must be between 1 and 65535; got {port}.");
        }

        if (request.Url is not null
            && (!Uri.TryCreate(request.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https")))
        {
            throw PortalException.Invalid("url", $"url is not an absolute http or https URL: '{request.Url}'.");
        }

        var network = request.Network is null
            ? NetworkKind.Unknown
            : Enum.Parse<NetworkKind>(Validate.OneOf(request.Network, "network", NetworkKinds.All), ignoreCase: true);
        var protocol = request.Protocol is null
            ? FlowProtocol.Unknown
            : Enum.Parse<FlowProtocol>(Validate.OneOf(request.Protocol, "protocol", PolicyProtocols.All), ignoreCase: true);

        return new FlowContext
        {
            UserEmail = email,
            Groups = Names(request.Groups, "groups"),
            Posture = Names(request.Posture, "posture"),
            Network = network,
            Time = request.Time ?? time.GetUtcNow(),
            Host = host,
            Ip = ip,
            Port = request.Port ?? 0,
            Protocol = protocol,
            Url = request.Url,
        };
    }

    private static string[] Names(IReadOnlyList<string>? values, string field)
    {
        if (values is null)
        {
            return [];
        }

        var names = new string[values.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = Validate.Name(values[i], $"{field}[{i}]");
        }

        return names;
    }

    private static PolicyExplainResponse ToResponse(Explanation explanation)
    {
        var decision = explanation.Decision;
        return new PolicyExplainResponse(
            JsonNamingPolicy.CamelCase.ConvertName(decision.Action.ToString()),
            decision.RuleIndex,
            decision.RuleName,
            InspectNames(decision.Inspect),
            decision.Category,
            explanation.Summary,
            [.. explanation.Rules.Select(r => new PolicyRuleTraceDto(
                r.Index, r.Name, r.Matched, r.FailedCriterion is { } c ? JsonNamingPolicy.CamelCase.ConvertName(c.ToString()) : null, r.Reason))],
            explanation.Facts.Categories,
            explanation.Facts.AppSegments);
    }

    private static List<string> InspectNames(InspectFlags flags)
    {
        var names = new List<string>();
        if (flags.HasFlag(InspectFlags.LogFullUrl))
        {
            names.Add("log-full-url");
        }

        if (flags.HasFlag(InspectFlags.TlsInspect))
        {
            names.Add("tls-inspect");
        }

        if (flags.HasFlag(InspectFlags.Dlp))
        {
            names.Add("dlp");
        }

        if (flags.HasFlag(InspectFlags.Sandbox))
        {
            names.Add("sandbox");
        }

        return names;
    }
}
