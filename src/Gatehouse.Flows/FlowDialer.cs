using System.Net;
using System.Net.Sockets;
using Gatehouse.Wire.Addresses;
using Gatehouse.Wire.Sockets;

namespace Gatehouse.Flows;

/// <summary>Why an allowed flow did not reach its destination; <see cref="None"/> when it did.</summary>
public enum DialError
{
    /// <summary>Connected.</summary>
    None,

    /// <summary>The name has no address.</summary>
    NameNotResolved,

    /// <summary>Every address of the destination is refused by egress safety.</summary>
    Forbidden,

    /// <summary>The destination refused the connection.</summary>
    Refused,

    /// <summary>No route, host down, or another socket error.</summary>
    Unreachable,

    /// <summary>No answer within the connect timeout.</summary>
    TimedOut,

    /// <summary>No socket could be opened here: the process is at its descriptor limit, or the system out of buffers.</summary>
    NoSocket,
}

/// <summary>The addresses of a destination that egress safety lets the edge reach.</summary>
/// <param name="Addresses">Reachable addresses, in the resolver's order; empty when none.</param>
/// <param name="Error"><see cref="DialError.None"/>, <see cref="DialError.NameNotResolved"/> or <see cref="DialError.Forbidden"/>.</param>
/// <param name="Reason">Why there is none, in plain words.</param>
/// <param name="First">The first address the name resolved to (even when refused), for the policy's IP criteria and the log.</param>
public readonly record struct Resolution(IPAddress[] Addresses, DialError Error, string? Reason, IPAddress? First);

/// <summary>A connected socket, or why there is none.</summary>
/// <param name="Socket">The connected socket; the caller owns it.</param>
/// <param name="Address">The address connected to (or the last tried).</param>
/// <param name="Error">Why the connection failed.</param>
/// <param name="Reason">The failure in plain words.</param>
public readonly record struct Connection(Socket? Socket, IPAddress? Address, DialError Error, string? Reason);

/// <summary>
/// Resolves and connects to a flow's destination. Every address is checked by <see cref="EgressGuard"/>
/// after resolution and the edge connects to exactly the address it checked, so a name that resolves to
/// a forbidden address never gets through (no DNS rebinding into the edge's own network).
/// </summary>
public sealed class FlowDialer
{
    private readonly EgressGuard _guard;
    private readonly TimeSpan _connectTimeout;
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve;
    private readonly Func<AddressFamily, Socket> _openSocket;

    /// <summary>Creates the dialer.</summary>
    /// <param name="guard">Egress safety.</param>
    /// <param name="connectTimeout">How long one connection attempt may take.</param>
    /// <param name="resolve">Resolves a name; the system resolver when null.</param>
    /// <param name="openSocket">Opens a TCP socket of the family; a new <see cref="Socket"/> when null (a test gives one that fails).</param>
    public FlowDialer(EgressGuard guard, TimeSpan connectTimeout, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null, Func<AddressFamily, Socket>? openSocket = null)
    {
        _guard = guard;
        _connectTimeout = connectTimeout;
        _resolve = resolve ?? Dns.GetHostAddressesAsync;
        _openSocket = openSocket ?? (static family => new Socket(family, SocketType.Stream, ProtocolType.Tcp));
    }

    /// <summary>Egress safety.</summary>
    public EgressGuard Guard => _guard;

    /// <summary>Resolves <paramref name="host"/> (an address literal is taken as it is) and keeps the addresses egress safety allows.</summary>
    /// <param name="host">A host name or an address literal (IPv6 with or without brackets).</param>
    /// <param name="ct">Cancels the lookup.</param>
    public async ValueTask<Resolution> ResolveAsync(string host, CancellationToken ct)
    {
        IPAddress[] all;
        if (TryParseAddress(host, out var literal))
        {
            all = [literal];
        }
        else
        {
            try
            {
                all = await _resolve(host, ct);
            }
            catch (SocketException)
            {
                all = [];
            }
            catch (ArgumentException)
            {
                all = [];
            }
        }

        if (all.Length == 0)
        {
            return new Resolution([], DialError.NameNotResolved, $"{host} does not resolve", null);
        }

        var allowed = new List<IPAddress>(all.Length);
        string? refusal = null;
        foreach (var address in all)
        {
            var normalized = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            if (_guard.Refusal(normalized) is { } reason)
            {
                refusal ??= reason;
            }
            else
            {
                allowed.Add(normalized);
            }
        }

        return allowed.Count == 0
            ? new Resolution([], DialError.Forbidden, $"egress refused: {refusal}", all[0])
            : new Resolution([.. allowed], DialError.None, null, allowed[0]);
    }

    /// <summary>Connects to the first of <paramref name="addresses"/> that answers.</summary>
    /// <param name="addresses">Addresses egress safety allowed (<see cref="ResolveAsync"/>).</param>
    /// <param name="port">The destination port.</param>
    /// <param name="ct">Cancels the attempt.</param>
    public async ValueTask<Connection> ConnectAsync(IPAddress[] addresses, int port, CancellationToken ct)
    {
        var result = new Connection(null, null, DialError.Unreachable, "no address to connect to");
        foreach (var address in addresses)
        {
            Socket socket;
            try
            {
                socket = _openSocket(address.AddressFamily);
                socket.NoDelay = true;
            }
            catch (SocketException e) when (LocalExhaustion.Is(e.SocketErrorCode))
            {
                // Not the destination's doing, and the next address would fare no better. Thrown on, it ended the client's
                // connection without an answer or a record.
                return new Connection(null, address, DialError.NoSocket, $"no socket could be opened to reach {address}:{port}: {e.Message} (the descriptor limit is reached)");
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_connectTimeout);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), timeout.Token);
                return new Connection(socket, address, DialError.None, null);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                socket.Dispose();
                result = new Connection(null, address, DialError.TimedOut, $"{address}:{port} did not answer within {_connectTimeout.TotalSeconds:0.#} s");
            }
            catch (SocketException e)
            {
                socket.Dispose();
                result = e.SocketErrorCode == SocketError.ConnectionRefused
                    ? new Connection(null, address, DialError.Refused, $"{address}:{port} refused the connection")
                    : new Connection(null, address, DialError.Unreachable, $"{address}:{port} is unreachable ({e.SocketErrorCode})");
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        return result;
    }

    /// <summary>Parses an address literal, IPv6 with or without brackets (<see cref="AddressLiteral.TryParse"/>).</summary>
    /// <param name="host">The host text.</param>
    /// <param name="address">The address.</param>
    public static bool TryParseAddress(string host, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address)
    {
        ArgumentNullException.ThrowIfNull(host);
        return AddressLiteral.TryParse(host, out address);
    }
}
