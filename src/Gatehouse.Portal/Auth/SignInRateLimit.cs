using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace Gatehouse.Portal.Auth;

/// <summary>
/// Bounds password guessing, and the CPU a guesser can burn on the slow password hash:
/// at most <see cref="AttemptsPerMinute"/> sign-in attempts a minute from one address.
/// </summary>
internal static class SignInRateLimit
{
    public const string Policy = "sign-in";

    /// <summary>Sign-in attempts allowed per minute from one remote address.</summary>
    public const int AttemptsPerMinute = 10;

    public static void Add(RateLimiterOptions options)
    {
        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        options.OnRejected = async (context, ct) =>
        {
            context.HttpContext.Response.Headers.RetryAfter = "60";
            await Results.Problem(
                detail: $"Too many sign-in attempts from this address; at most {AttemptsPerMinute} a minute. Try again in a minute.",
                statusCode: StatusCodes.Status429TooManyRequests,
                title: "Too many requests.",
                type: "https://gatehouse.dev/problems/rate-limited").ExecuteAsync(context.HttpContext);
        };
        options.AddPolicy(Policy, http => RateLimitPartition.GetFixedWindowLimiter(
            http.Connection.RemoteIpAddress?.ToString() ?? "unknown",
            _ => new FixedWindowRateLimiterOptions { PermitLimit = AttemptsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
    }
}
