using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Gatehouse.Cli.Tests.Scripted;

/// <summary>
/// A real TLS server on loopback with a fresh self-signed certificate, like the portal's, that
/// answers every request with one JSON body. HttpListener cannot serve TLS on Linux, hence
/// a few lines of HTTP/1.1 over <see cref="SslStream"/>.
/// </summary>
public sealed class TlsPortal : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly X509Certificate2 _certificate;
    private readonly string _body;
    private readonly Task _serving;

    public TlsPortal(string body)
    {
        _body = body;
        _certificate = SelfSigned("127.0.0.1");
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Url = new Uri($"https://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _serving = Task.Run(ServeAsync);
    }

    public Uri Url { get; }

    /// <summary>The certificate's PEM, as an admin would save it for <c>--ca-file</c>.</summary>
    public string CertificatePem => _certificate.ExportCertificatePem();

    private int _answered;

    public int Answered => Volatile.Read(ref _answered);

    public static X509Certificate2 SelfSigned(string ip)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=gatehouse-portal", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Parse(ip));
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        // Through PKCS#12 so that the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    private async Task ServeAsync()
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using (client)
            {
                try
                {
                    using var tls = new SslStream(client.GetStream());
                    await tls.AuthenticateAsServerAsync(_certificate);
                    var head = new StringBuilder();
                    var buffer = new byte[1];
                    while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await tls.ReadAsync(buffer) == 1)
                    {
                        head.Append((char)buffer[0]);
                    }
                    var body = Encoding.UTF8.GetBytes(_body);
                    var answer = $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
                    await tls.WriteAsync(Encoding.ASCII.GetBytes(answer));
                    await tls.WriteAsync(body);
                    Interlocked.Increment(ref _answered);
                }
                catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
                {
                    // The client refused our certificate: that is what some tests expect.
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _serving.WaitAsync(TimeSpan.FromSeconds(10));
        _certificate.Dispose();
    }
}
