using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.Testing;
using Gatehouse.Testing.Namespaces;
using Gatehouse.Wire.Dns;

namespace Gatehouse.Agent.Tests.Namespaces;

/// <summary>
/// "The internet" inside a namespace: one address with a web server on 80, the same over TLS on 443
/// (a self-signed certificate: curl -k), and a name server on 53 that answers every name under
/// <see cref="Zone"/> with that address. Each answer names the client address the origin saw and the
/// Host asked for, so a test tells a flow through the edge from a direct one.
/// </summary>
internal sealed class InternetOrigin : IAsyncDisposable
{
    public const string Zone = "agent.test";

    private readonly Socket _http;
    private readonly Socket _https;
    private readonly Socket _dns;
    private readonly X509Certificate2 _certificate;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _loops;

    public InternetOrigin(NetworkNamespace internet, IPAddress address)
    {
        Address = address;
        _certificate = TestCertificates.SelfSigned("origin." + Zone);
        // On every address of the namespace, IPv4 and IPv6: a TLS beacon on the endpoint's link is one
        // the edge cannot reach, and the IPv6 origin address is the endpoint's only.
        _http = internet.CreateSocket(() => Listen(80));
        _https = internet.CreateSocket(() => Listen(443));
        _dns = internet.CreateSocket(() =>
        {
            var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(address, 53));
            return udp;
        });
        _loops = [AcceptAsync(_http, tls: false), AcceptAsync(_https, tls: true), AnswerDnsAsync()];
    }

    public IPAddress Address { get; }

    /// <summary>Every request answered, as "CLIENT HOST".</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Seen { get; } = new();

    /// <summary>The SHA-256 fingerprint (hex) of the TLS certificate, as a beacon criterion names it.</summary>
    public string CertificateSha256 => Convert.ToHexString(SHA256.HashData(_certificate.RawData));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _http.Dispose();
        _https.Dispose();
        _dns.Dispose();
        await Task.WhenAll(_loops);
        _certificate.Dispose();
        _stop.Dispose();
    }

    private static Socket Listen(int port)
    {
        var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
        socket.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
        socket.Listen(64);
        return socket;
    }

    private async Task AcceptAsync(Socket listener, bool tls)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var client = await listener.AcceptAsync(_stop.Token);
                _ = ServeAsync(client, tls);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    private async Task ServeAsync(Socket client, bool tls)
    {
        var remote = ((IPEndPoint)client.RemoteEndPoint!).Address;
        remote = remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote;
        try
        {
            await using var network = new NetworkStream(client, ownsSocket: true);
            Stream stream = network;
            if (tls)
            {
                var ssl = new SslStream(network);
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, _stop.Token);
                stream = ssl;
            }

            var head = new StringBuilder();
            var buffer = new byte[4096];
            while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    return;
                }

                head.Append(Encoding.Latin1.GetString(buffer, 0, read));
            }

            var host = head.ToString().Split("\r\n").FirstOrDefault(l => l.StartsWith("Host:", StringComparison.OrdinalIgnoreCase))?[5..].Trim();
            Seen.Enqueue($"{remote} {host}");
            var body = Encoding.UTF8.GetBytes($"origin saw {remote} ask for {host} over {(tls ? "https" : "http")}\n");
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n"), _stop.Token);
            await stream.WriteAsync(body, _stop.Token);
            await stream.FlushAsync(_stop.Token);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
        {
            // The client went away.
        }
    }

    private async Task AnswerDnsAsync()
    {
        var buffer = new byte[4096];
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var received = await _dns.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                var message = buffer.AsSpan(0, received.ReceivedBytes);
                byte[] answer;
                if (!DnsMessage.TryReadQuery(message, out var query, out _))
                {
                    answer = DnsMessage.Error(message, query, DnsResponseCodes.FormatError);
                }
                else if (query!.Name == Zone || query.Name.EndsWith("." + Zone, StringComparison.Ordinal))
                {
                    answer = DnsMessage.Answer(message, query, query.Type == DnsTypes.A ? Address : null, 30);
                }
                else
                {
                    answer = DnsMessage.Error(message, query, DnsResponseCodes.NameError);
                }

                await _dns.SendToAsync(answer, SocketFlags.None, received.RemoteEndPoint, _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }
}
