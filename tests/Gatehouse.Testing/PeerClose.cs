using System.Security.Authentication;

namespace Gatehouse.Testing;

/// <summary>Whether, and when, the other end of a connection closes it: what a robustness test waits for.</summary>
public static class PeerClose
{
    /// <summary>Reads until the peer closes (true) or <paramref name="bound"/> passes (false); an alert or an error page before the close is ignored.</summary>
    public static async Task<bool> WithinAsync(Stream stream, TimeSpan bound) => (await ReadUntilAsync(stream, bound)).Closed;

    /// <summary>Reads until the peer closes or resets (closed) or <paramref name="bound"/> passes (not), keeping what arrived.</summary>
    public static async Task<(bool Closed, byte[] Received)> ReadUntilAsync(Stream stream, TimeSpan bound)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var timeout = new CancellationTokenSource(bound);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var n = await stream.ReadAsync(buffer, timeout.Token);
                if (n == 0)
                {
                    return (true, received.ToArray());
                }

                received.Write(buffer, 0, n);
            }
        }
        catch (OperationCanceledException)
        {
            return (false, received.ToArray());
        }
        catch (Exception e) when (e is IOException or AuthenticationException)
        {
            // Reset, or a TLS stream broken by the close.
            return (true, received.ToArray());
        }
    }
}
