using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Testing.Tls;

/// <summary>
/// ClientHellos built byte by byte, for tests of what reads their server name (the edge's check, the agent's sniffer), and
/// captured from a real client.
/// </summary>
public static class ClientHellos
{
    /// <summary>The ClientHello a .NET client sends for TLS 1.3 and h2 (with <paramref name="clientCertificate"/>, if any), as its first record.</summary>
    public static async Task<byte[]> CaptureAsync(X509Certificate2? clientCertificate = null)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            using var client = new TcpClient();
            var accepting = listener.AcceptTcpClientAsync(timeout.Token);
            await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint, timeout.Token);
            using var server = await accepting;
            await using var tls = new SslStream(client.GetStream());
            var handshake = tls.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = "edge",
                    EnabledSslProtocols = SslProtocols.Tls13,
                    ApplicationProtocols = [SslApplicationProtocol.Http2],
                    ClientCertificates = clientCertificate is null ? null : [clientCertificate],
                },
                timeout.Token);

            var header = new byte[5];
            await server.GetStream().ReadExactlyAsync(header, timeout.Token);
            var body = new byte[(header[3] << 8) | header[4]];
            await server.GetStream().ReadExactlyAsync(body, timeout.Token);
            server.Close();
            try
            {
                await handshake;
            }
            catch (Exception e) when (e is IOException or AuthenticationException)
            {
                // The server went away after the ClientHello, as it was meant to.
            }

            if (header[0] != 0x16 || body[0] != 0x01)
            {
                throw new InvalidDataException("The client's first record was not a handshake record holding a ClientHello.");
            }

            return [.. header, .. body];
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>A server_name extension's data (RFC 6066 section 3) listing <paramref name="names"/>, each a type and its bytes.</summary>
    public static byte[] ServerNames(params (byte Type, byte[] Name)[] names)
    {
        var list = names.SelectMany(n => (byte[])[n.Type, (byte)(n.Name.Length >> 8), (byte)n.Name.Length, .. n.Name]).ToArray();
        return [(byte)(list.Length >> 8), (byte)list.Length, .. list];
    }

    /// <summary>A minimal TLS 1.2 ClientHello in one handshake record, with one server_name extension of <paramref name="serverNameExtension"/>.</summary>
    public static byte[] Build(byte[] serverNameExtension) => BuildWithServerNames([serverNameExtension]);

    /// <summary>A minimal TLS 1.2 ClientHello in one handshake record, with a server_name extension of each of <paramref name="serverNameExtensions"/>.</summary>
    public static byte[] BuildWithServerNames(byte[][] serverNameExtensions) =>
        BuildWithExtensions([.. serverNameExtensions.Select(e => ((ushort)0x0000, e))]);

    /// <summary>The extension type of Encrypted Client Hello (<c>encrypted_client_hello</c>).</summary>
    public const ushort EncryptedClientHello = 0xfe0d;

    /// <summary>An outer ClientHello's <c>encrypted_client_hello</c> data: a cipher suite, a config id, a key share and the sealed inner hello (random here).</summary>
    public static byte[] EchOuterPayload() =>
        [0x00, 0x00, 0x01, 0x00, 0x01, 0x2a, 0x00, 0x20, .. RandomNumberGenerator.GetBytes(32), 0x00, 0x80, .. RandomNumberGenerator.GetBytes(128)];

    /// <summary>A minimal TLS 1.2 ClientHello in one handshake record, with <paramref name="extensions"/> in order.</summary>
    public static byte[] BuildWithExtensions(params (ushort Type, byte[] Data)[] extensions)
    {
        byte[] encoded = [.. extensions.SelectMany(e => (byte[])[(byte)(e.Type >> 8), (byte)e.Type, (byte)(e.Data.Length >> 8), (byte)e.Data.Length, .. e.Data])];
        byte[] body =
        [
            0x03, 0x03, .. new byte[32], 0x00, // version, random, no session id
            0x00, 0x02, 0x13, 0x01, 0x01, 0x00, // one cipher suite, no compression
            (byte)(encoded.Length >> 8), (byte)encoded.Length, .. encoded,
        ];
        byte[] message = [0x01, (byte)(body.Length >> 16), (byte)(body.Length >> 8), (byte)body.Length, .. body];
        return [0x16, 0x03, 0x01, (byte)(message.Length >> 8), (byte)message.Length, .. message];
    }

    /// <summary>
    /// A ClientHello in the SSL 2.0 format that old clients sent to reach SSL 3.0 and TLS servers (RFC 5246 appendix
    /// E.2): a two-byte length with the high bit set, then CLIENT-HELLO, version 3.1, one cipher spec, a challenge.
    /// </summary>
    public static byte[] Sslv2ClientHello()
    {
        byte[] body = [0x01, 0x03, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x2f, .. RandomNumberGenerator.GetBytes(16)];
        return [(byte)(0x80 | (body.Length >> 8)), (byte)body.Length, .. body];
    }
}
