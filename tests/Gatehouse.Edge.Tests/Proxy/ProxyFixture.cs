using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Edge.Flows;
using Gatehouse.Edge.Hosting;
using Gatehouse.Edge.Policies;
using Gatehouse.Edge.Proxy;
using Gatehouse.Flows;
using Gatehouse.Wire.Logs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Edge.Tests.Proxy;

/// <summary>Collects the records the data path writes.</summary>
internal sealed class CapturingRecorder : ITransactionRecorder
{
    private readonly ConcurrentQueue<TransactionLogRecord> _records = new();

    public IReadOnlyList<TransactionLogRecord> Records => [.. _records];

    public void Record(TransactionLogRecord record) => _records.Enqueue(record);

    /// <summary>Waits (bounded) for a record that matches.</summary>
    public async Task<TransactionLogRecord> WaitForAsync(Func<TransactionLogRecord, bool> match)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var found = _records.FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }

            await Task.Delay(20, timeout.Token);
        }
    }
}

/// <summary>A tenant's edge bundle body for tests: users with proxy credentials, rules, categories.</summary>
internal sealed class TestTenant
{
    public const string TenantId = "0195f000-0000-7000-8000-00000000aaaa";
    private readonly JsonArray _users = [];
    private readonly JsonArray _credentials = [];
    private readonly JsonArray _rules = [];
    private readonly JsonObject _categories = [];
    private long _version = 1;

    public (string Id, string Email, string Password) AddUser(string email, params string[] groups)
    {
        var id = Guid.CreateVersion7().ToString();
        var password = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        _users.Add(new JsonObject { ["id"] = id, ["email"] = email, ["disabled"] = false, ["groups"] = new JsonArray([.. groups.Select(g => JsonValue.Create(g))]) });
        _credentials.Add(new JsonObject { ["userId"] = id, ["username"] = email, ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(password))) });
        return (id, email, password);
    }

    public void AddRule(string name, string action, JsonObject criteria) =>
        _rules.Add(new JsonObject { ["name"] = name, ["action"] = action, ["criteria"] = criteria });

    public void ClearRules() => _rules.Clear();

    public void AddCategory(string name, params string[] domains) => _categories[name] = new JsonArray([.. domains.Select(d => JsonValue.Create(d))]);

    public JsonObject Body() => new()
    {
        ["tenant"] = new JsonObject { ["id"] = TenantId, ["name"] = "test tenant" },
        ["users"] = _users.DeepClone(),
        ["proxyCredentials"] = _credentials.DeepClone(),
        ["policy"] = _rules.DeepClone(),
        ["categories"] = _categories.DeepClone(),
    };

    public void ApplyTo(EdgePolicy policy) => Assert.Equal(EdgePolicyOutcome.Applied, policy.Apply(++_version, Body()));
}

/// <summary>The forward proxy on a loopback port, with a policy from a <see cref="TestTenant"/> and loopback destinations allowed.</summary>
internal sealed class ProxyFixture : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ProxyFixture(WebApplication app, DataPath path, CapturingRecorder recorder, IPEndPoint address)
    {
        _app = app;
        Path = path;
        Recorder = recorder;
        Address = address;
    }

    public DataPath Path { get; }

    public CapturingRecorder Recorder { get; }

    public IPEndPoint Address { get; }

    public Uri ProxyUri => new($"http://{Address}");

    public EdgePolicy Policy => Path.Policy;

    public static async Task<ProxyFixture> StartAsync(TestTenant tenant, EdgeLimits? limits = null, bool allowLoopback = true, ITransactionRecorder? recorder = null, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null, TimeProvider? time = null, Func<AddressFamily, Socket>? openSocket = null)
    {
        limits ??= new EdgeLimits();
        var policy = new EdgePolicy();
        tenant.ApplyTo(policy);
        var capturing = new CapturingRecorder();
        var guard = new EgressGuard(allowLoopback ? [IPNetwork.Parse("127.0.0.0/8")] : []);
        var path = new DataPath(TestTenant.TenantId, "edge-under-test", policy, new FlowDialer(guard, limits.ConnectTimeout, resolve, openSocket), new FlowRegistry(limits.IdleTimeout), limits, recorder ?? capturing, null, time ?? TimeProvider.System);
        var proxy = new ForwardProxy(path, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions? listener = null;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        PausingSocketTransport.Use(builder.Services, ForwardProxy.SocketOptions); // as the edge runs it: inline scheduling changes timings
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l =>
        {
            listener = l;
            l.Run(connection => proxy.OnConnectedAsync(connection));
        }));
        var app = builder.Build();
        await app.StartAsync();
        var address = (IPEndPoint)listener!.EndPoint;
        proxy.AdvertisedAddress = address.ToString();
        return new ProxyFixture(app, path, capturing, address);
    }

    public HttpClient Client(string? email, string? password)
    {
        var handler = new SocketsHttpHandler
        {
            Proxy = new WebProxy(ProxyUri) { Credentials = email is null ? null : new NetworkCredential(email, password) },
            UseProxy = true,
            AllowAutoRedirect = false,
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(15) };
    }

    public static string Basic(string email, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{email}:{password}"));

    /// <summary>Sends raw bytes to the proxy (from a loopback address of <paramref name="from"/>'s choosing) and reads until the proxy closes or <paramref name="until"/> appears.</summary>
    public async Task<string> RawAsync(byte[] request, string? until = null, TimeSpan? timeout = null, IPAddress? from = null)
    {
        using var client = from is null ? new TcpClient() : new TcpClient(new IPEndPoint(from, 0));
        await client.ConnectAsync(Address);
        var stream = client.GetStream();
        await stream.WriteAsync(request);
        return await ReadAsync(stream, until, timeout ?? TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// What an origin written for a test does first: reads up to the end of a request head, a byte at a time, so that
    /// nothing of the body is taken with it; returns the head (Latin-1).
    /// </summary>
    public static async Task<string> ReadRequestHeadAsync(Stream stream, CancellationToken ct)
    {
        var head = new MemoryStream();
        var tail = 0u;
        var one = new byte[1];
        while (tail != 0x0D0A0D0A)
        {
            await stream.ReadExactlyAsync(one, ct);
            head.WriteByte(one[0]);
            tail = (tail << 8) | one[0];
        }

        return Encoding.Latin1.GetString(head.ToArray());
    }

    public static async Task<string> ReadAsync(Stream stream, string? until, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var received = new MemoryStream();
        var buffer = new byte[8192];
        try
        {
            while (true)
            {
                var n = await stream.ReadAsync(buffer, cts.Token);
                if (n == 0)
                {
                    break;
                }

                received.Write(buffer, 0, n);
                if (until is not null && Encoding.Latin1.GetString(received.ToArray()).Contains(until, StringComparison.Ordinal))
                {
                    break;
                }
            }
        }
        catch (IOException)
        {
            // reset by the proxy: what arrived is the answer
        }

        return Encoding.Latin1.GetString(received.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await Path.Flows.DisposeAsync();
    }
}
