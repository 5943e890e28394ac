using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Testing.Tls;

/// <summary>
/// Real ClientHellos whose handshake length stops short of their content, thrown at a TLS listener. One that stops inside
/// the extensions' length makes SslStream's own parser throw ArgumentOutOfRangeException (.NET 10) on a connection its
/// client keeps open, which Kestrel logs as an unhandled exception unless the listener catches it.
/// </summary>
public static class ShortenedClientHellos
{
    /// <summary>Every copy of <paramref name="hello"/> with a handshake length (bytes 6-8) from 1 to one short of its own.</summary>
    public static IEnumerable<(int Length, byte[] Bytes)> Of(byte[] hello)
    {
        ArgumentNullException.ThrowIfNull(hello);
        var realLength = (hello[6] << 16) | (hello[7] << 8) | hello[8];
        for (var length = 1; length < realLength; length++)
        {
            var shortened = (byte[])hello.Clone();
            shortened[6] = (byte)(length >> 16);
            shortened[7] = (byte)(length >> 8);
            shortened[8] = (byte)length;
            yield return (length, shortened);
        }
    }

    /// <summary>
    /// Sends each of <see cref="Of"/> on a connection of its own, kept open, and waits up to <paramref name="patience"/> for
    /// the server to close each.
    /// </summary>
    /// <returns>The handshake lengths whose connections were still open.</returns>
    public static async Task<IReadOnlyList<int>> ThrowAtAsync(IPEndPoint server, byte[] hello, TimeSpan patience)
    {
        var open = new ConcurrentBag<int>();
        await Parallel.ForEachAsync(Of(hello), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (input, ct) =>
        {
            using var client = new TcpClient();
            await client.ConnectAsync(server, ct);
            var stream = client.GetStream();
            try
            {
                await stream.WriteAsync(input.Bytes, ct);
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                // The server closed while we wrote.
            }

            if (!await PeerClose.WithinAsync(stream, patience))
            {
                open.Add(input.Length);
            }
        });

        return [.. open.Order()];
    }
}
