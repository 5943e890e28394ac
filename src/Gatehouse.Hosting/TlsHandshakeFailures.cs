using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Hosting;

/// <summary>
/// Ends a TLS handshake that SslStream fails with an exception Kestrel does not expect from one as the failed handshake it
/// is, instead of as an unhandled exception.
/// </summary>
/// <remarks>
/// Kestrel's TLS middleware takes an <see cref="System.Security.Authentication.AuthenticationException"/>, an
/// <see cref="IOException"/> or a timeout as a failed handshake and logs it at debug. SslStream throws others for some
/// bytes from the network, before any certificate is looked at: <see cref="NotSupportedException"/> when the first
/// record is no ClientHello and the server's options come from a callback, and <see cref="ArgumentOutOfRangeException"/>
/// from its ClientHello parser when a ClientHello's handshake length ends inside its extensions' length (.NET 10, found
/// by the edge's fuzz tests; it takes a client that keeps the connection open). Kestrel logs those as unhandled
/// exceptions, with their stacks, at error: a log line for a few hundred bytes from anyone who can reach the port.
/// </remarks>
public static class TlsHandshakeFailures
{
    /// <summary>
    /// The two connection middlewares that go around <c>UseHttps</c>: the first ends the connection quietly when the
    /// handshake throws one of those exceptions, the second marks the handshake as done, so that an exception from
    /// anything after it still surfaces.
    /// </summary>
    /// <param name="onFailed">Told of each handshake ended this way (to log it, at debug: the client is not to be trusted).</param>
    public static (Func<ConnectionDelegate, ConnectionDelegate> Before, Func<ConnectionDelegate, ConnectionDelegate> After) Around(Action<ConnectionContext, Exception> onFailed)
    {
        ArgumentNullException.ThrowIfNull(onFailed);
        return (next => connection => EndQuietlyAsync(next, connection, onFailed), next => connection => MarkDone(next, connection));

        static async Task EndQuietlyAsync(ConnectionDelegate next, ConnectionContext connection, Action<ConnectionContext, Exception> onFailed)
        {
            try
            {
                await next(connection);
            }
            catch (Exception e) when (e is NotSupportedException or ArgumentOutOfRangeException && connection.Features.Get<HandshakeDone>() is null)
            {
                onFailed(connection, e);
            }
        }

        static Task MarkDone(ConnectionDelegate next, ConnectionContext connection)
        {
            connection.Features.Set(HandshakeDone.Instance);
            return next(connection);
        }
    }

    /// <summary>Set on a connection once its TLS handshake has succeeded.</summary>
    private sealed class HandshakeDone
    {
        public static readonly HandshakeDone Instance = new();
    }
}
