using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Gatehouse.Edge.Flows;
using Gatehouse.Edge.Identities;
using Gatehouse.Edge.Operations;

namespace Gatehouse.Edge.Proxy;

/// <summary>What a request's <c>Proxy-Authorization</c> came to.</summary>
internal enum ProxyAuthOutcome
{
    /// <summary>Right credentials.</summary>
    Authenticated,

    /// <summary>Wrong credentials, checked and counted.</summary>
    Wrong,

    /// <summary>Refused without a look at the password: too many wrong ones came from the client's address.</summary>
    Refused,
}

/// <summary>Which limit refused a request, and when to try again.</summary>
/// <param name="PerUser">True when the limit is the user name's from this address; false when it is the address's.</param>
/// <param name="RetryAfter">How long the refusal lasts from now.</param>
internal readonly record struct ProxyAuthRefusal(bool PerUser, TimeSpan RetryAfter)
{
    /// <summary>The refusal in the words of the record and the page.</summary>
    public string Reason => PerUser
        ? "too many wrong proxy credentials for this user name from this address"
        : "too many wrong proxy credentials from this address";
}

/// <summary>
/// The forward proxy's limit on password guessing. Wrong credentials are counted per client address (an IPv6 client's
/// /64, which one client usually holds whole) and per (address, user name); past <see cref="EdgeLimits.ProxyAuthFailuresPerUser"/>
/// for one name, or <see cref="EdgeLimits.ProxyAuthFailuresPerAddress"/> for all, within
/// <see cref="EdgeLimits.ProxyAuthFailureWindow"/>, requests with credentials are refused for one window without a
/// look at the password. Nothing is counted per user name alone: that would let anyone lock a user out everywhere.
/// </summary>
/// <remarks>
/// An address with no failures and a credential that verified before costs one dictionary lookup (none while no
/// address has failures). Any other request is checked under its address's lock, so guesses sent at once are counted
/// as if sent in turn: sending faster gets no more checked. The table holds at most
/// <see cref="EdgeLimits.ProxyAuthTrackedAddresses"/> addresses; past that, expired ones go, then those whose last
/// failure is oldest (a refused address failed recently, so it stays). Addresses whose counts have all expired are
/// forgotten without waiting for them to come back: by a counted request from any address, at most every quarter
/// window, and whenever the gauge of tracked addresses is read.
/// </remarks>
internal sealed class ProxyAuthThrottle
{
    /// <summary>User names counted per address; past that, a new name takes the place of the one with the fewest failures.</summary>
    internal const int MaxUserNamesPerAddress = 32;

    private const int MaxUserNameLength = 320;

    private readonly ConcurrentDictionary<UInt128, Client> _clients = new();
    private readonly Lock _evicting = new();
    private readonly int _perUser;
    private readonly int _perAddress;
    private readonly int _capacity;
    private readonly long _window;
    private readonly long _sweepEvery;
    private readonly TimeProvider _time;
    private readonly EdgeMetrics? _metrics;
    private readonly ILogger _logger;
    private int _tracked;
    private long _nextSweep;

    public ProxyAuthThrottle(EdgeLimits limits, TimeProvider time, EdgeMetrics? metrics, ILogger logger)
    {
        _perUser = Math.Max(1, limits.ProxyAuthFailuresPerUser);
        _perAddress = Math.Max(1, limits.ProxyAuthFailuresPerAddress);
        _capacity = Math.Max(1, limits.ProxyAuthTrackedAddresses);
        _window = limits.ProxyAuthFailureWindow.Ticks;
        _sweepEvery = Math.Max(TimeSpan.TicksPerSecond, _window / 4);
        _time = time;
        _metrics = metrics;
        _logger = logger;
        metrics?.ObserveProxyAuth(CountLive);
    }

    /// <summary>Addresses in the table, expired or not.</summary>
    public int Tracked => Volatile.Read(ref _tracked);

    /// <summary>Forgets the addresses whose counts have all expired, then says how many are left: what the gauge shows.</summary>
    public int CountLive()
    {
        if (Tracked > 0)
        {
            ForgetExpired(_time.GetUtcNow().UtcTicks);
        }

        return Tracked;
    }

    /// <summary>The key a client is counted under: an IPv4 address whole, an IPv6 address's /64; one key for non-IP clients.</summary>
    public static UInt128 KeyOf(EndPoint? endPoint)
    {
        if (endPoint is not IPEndPoint { Address: var address })
        {
            return UInt128.Zero;
        }

        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            // As ::ffff:a.b.c.d, so that the same client over an IPv4 and a dual-stack socket is one key.
            bytes[10] = 0xFF;
            bytes[11] = 0xFF;
            address.TryWriteBytes(bytes[12..], out _);
        }
        else
        {
            address.TryWriteBytes(bytes, out _);
            if (!address.IsIPv4MappedToIPv6)
            {
                bytes[8..].Clear();
            }
        }

        return BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    /// <summary>Checks a request's <c>Proxy-Authorization</c> within the limits.</summary>
    /// <param name="client">The client's key (<see cref="KeyOf"/>).</param>
    /// <param name="headerValue">The header's value.</param>
    /// <param name="credentials">The credentials in force.</param>
    /// <param name="user">The user, when authenticated.</param>
    /// <param name="refusal">Which limit refused, when refused.</param>
    public ProxyAuthOutcome Authenticate(UInt128 client, string headerValue, ProxyCredentialTable credentials, out ProxyUser? user, out ProxyAuthRefusal refusal)
    {
        refusal = default;
        if ((Volatile.Read(ref _tracked) == 0 || !_clients.ContainsKey(client)) && credentials.TryRemembered(headerValue, out user))
        {
            return ProxyAuthOutcome.Authenticated;
        }

        return AuthenticateCounted(client, headerValue, credentials, out user, out refusal);
    }

    private ProxyAuthOutcome AuthenticateCounted(UInt128 key, string headerValue, ProxyCredentialTable credentials, out ProxyUser? user, out ProxyAuthRefusal refusal)
    {
        var now = _time.GetUtcNow().UtcTicks;
        refusal = default;
        ForgetExpiredIfDue(now);
        while (true)
        {
            var client = Track(key, now);
            lock (client)
            {
                if (client.Forgotten)
                {
                    continue; // evicted or cleared while this request waited for it: count on a fresh one
                }

                client.Expire(now, _window);
                string? name = null;
                if (client.Address.RefusedUntil > now)
                {
                    return Refuse(new ProxyAuthRefusal(false, TimeSpan.FromTicks(client.Address.RefusedUntil - now)), out user, out refusal);
                }

                if (client.Users is { Count: > 0 } users
                    && users.TryGetValue(name = ProxyCredentialTable.UserNameOf(headerValue), out var counted)
                    && counted.RefusedUntil > now)
                {
                    return Refuse(new ProxyAuthRefusal(true, TimeSpan.FromTicks(counted.RefusedUntil - now)), out user, out refusal);
                }

                // Checked under the address's lock: guesses sent at once are checked one after another, each counted.
                if (credentials.TryAuthenticate(headerValue, out user))
                {
                    // The name's count ends with its right password; the address's does not, or one's own account
                    // would reset the count of guesses at others'.
                    if (client.Users is { Count: > 0 })
                    {
                        client.Users.Remove(name ?? ProxyCredentialTable.UserNameOf(headerValue));
                    }

                    ForgetIfClear(key, client);
                    return ProxyAuthOutcome.Authenticated;
                }

                Fail(key, client, name ?? ProxyCredentialTable.UserNameOf(headerValue), now);
                return ProxyAuthOutcome.Wrong;
            }
        }
    }

    private ProxyAuthOutcome Refuse(ProxyAuthRefusal refused, out ProxyUser? user, out ProxyAuthRefusal refusal)
    {
        user = null;
        refusal = refused;
        _metrics?.ProxyAuthRefused(refused.PerUser);
        return ProxyAuthOutcome.Refused;
    }

    private void Fail(UInt128 key, Client client, string name, long now)
    {
        _metrics?.ProxyAuthFailed();
        client.LastFailure = now;
        if (client.Address.Count(now, _window, _perAddress))
        {
            ProxyLog.AddressRefused(_logger, Describe(key), _perAddress, TimeSpan.FromTicks(_window));
        }

        if (name.Length > MaxUserNameLength)
        {
            return;
        }

        var users = client.Users ??= new Dictionary<string, Counter>(StringComparer.Ordinal);
        if (users.Count >= MaxUserNamesPerAddress && !users.ContainsKey(name) && !ForgetFewestFailures(users))
        {
            return; // every name counted is refused already: the address's limit counts this one
        }

        if (CollectionsMarshal.GetValueRefOrAddDefault(users, name, out _).Count(now, _window, _perUser))
        {
            ProxyLog.UserNameRefused(_logger, Describe(key), name, _perUser, TimeSpan.FromTicks(_window));
        }
    }

    /// <summary>
    /// Makes room for a new name by forgetting the one with the fewest failures that is not refused, so that names
    /// sprayed first (one failure each) cannot keep the name guessed next out of the count; to push out a name with
    /// k failures an address would need k failures for each of the others, past the address's own limit.
    /// </summary>
    /// <returns>False when every name is refused (nothing is forgotten).</returns>
    private static bool ForgetFewestFailures(Dictionary<string, Counter> users)
    {
        string? fewest = null;
        var failures = int.MaxValue;
        foreach (var (name, counter) in users)
        {
            if (counter.RefusedUntil == 0 && counter.Failures < failures)
            {
                (fewest, failures) = (name, counter.Failures);
            }
        }

        return fewest is not null && users.Remove(fewest);
    }

    private Client Track(UInt128 key, long now)
    {
        if (_clients.TryGetValue(key, out var client))
        {
            return client;
        }

        var fresh = new Client();
        client = _clients.GetOrAdd(key, fresh);
        if (ReferenceEquals(client, fresh) && Interlocked.Increment(ref _tracked) > _capacity)
        {
            Evict(now);
        }

        return client;
    }

    /// <summary>Takes an address out of the table once nothing is counted for it, so that its requests take the short path again.</summary>
    /// <returns>Whether it was taken out.</returns>
    private bool ForgetIfClear(UInt128 key, Client client)
    {
        if (!client.IsClear)
        {
            return false;
        }

        Forget(key, client);
        return true;
    }

    /// <summary>Forgets what has expired of <paramref name="client"/>, and the address itself when nothing is left. Under its lock.</summary>
    /// <returns>Whether the address was taken out.</returns>
    private bool ExpireOrForget(UInt128 key, Client client, long now)
    {
        client.Expire(now, _window);
        return ForgetIfClear(key, client);
    }

    /// <summary><see cref="ForgetExpired"/>, once every quarter window at most: a counted request pays for it, rarely.</summary>
    private void ForgetExpiredIfDue(long now)
    {
        var due = Volatile.Read(ref _nextSweep);
        if (now < due || Tracked == 0 || Interlocked.CompareExchange(ref _nextSweep, now + _sweepEvery, due) != due)
        {
            return;
        }

        ForgetExpired(now);
    }

    /// <summary>
    /// Forgets every address whose counts have all expired, so that the table, and the gauge that reports it, hold live
    /// counts only; an address that does not come back is not kept until the table fills.
    /// </summary>
    private void ForgetExpired(long now)
    {
        if (!_evicting.TryEnter())
        {
            return; // an eviction is under way, and it forgets expired addresses first
        }

        try
        {
            foreach (var (key, client) in _clients)
            {
                lock (client)
                {
                    ExpireOrForget(key, client, now);
                }
            }
        }
        finally
        {
            _evicting.Exit();
        }
    }

    private void Forget(UInt128 key, Client client)
    {
        client.Forgotten = true;
        if (_clients.TryRemove(KeyValuePair.Create(key, client)))
        {
            Interlocked.Decrement(ref _tracked);
        }
    }

    /// <summary>
    /// Brings the table down to three quarters of its capacity: expired addresses first, then those whose last failure is
    /// oldest, refused ones last (so that failing from many new addresses cannot free one). Each pass frees a quarter
    /// of the table, so its cost is spread over as many new addresses.
    /// </summary>
    private void Evict(long now)
    {
        if (!_evicting.TryEnter())
        {
            return;
        }

        try
        {
            var ranks = new List<long>(Tracked);
            foreach (var (key, client) in _clients)
            {
                lock (client)
                {
                    if (ExpireOrForget(key, client, now))
                    {
                        continue;
                    }

                    client.EvictionRank = client.IsRefused ? RefusedRank + client.LastFailure : client.LastFailure;
                    ranks.Add(client.EvictionRank);
                }
            }

            var excess = ranks.Count - (_capacity - (_capacity / 4));
            if (excess <= 0)
            {
                return;
            }

            ranks.Sort();
            var last = ranks[excess - 1];
            foreach (var (key, client) in _clients)
            {
                lock (client)
                {
                    if (!client.Forgotten && client.EvictionRank <= last)
                    {
                        Forget(key, client);
                    }
                }
            }
        }
        finally
        {
            _evicting.Exit();
        }
    }

    /// <summary>Added to a refused address's rank: above any time in ticks (year 9999 is under 2^62).</summary>
    private const long RefusedRank = 1L << 62;

    /// <summary>The key as the log shows it: an IPv4 address, or an IPv6 /64.</summary>
    internal static string Describe(UInt128 key)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, key);
        var address = new IPAddress(bytes);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4().ToString() : $"{address}/64";
    }

    /// <summary>Wrong credentials within a window, and the refusal they led to.</summary>
    private struct Counter
    {
        public int Failures;
        public long WindowStart;
        public long RefusedUntil;

        public readonly bool IsClear => Failures == 0 && RefusedUntil == 0;

        /// <summary>Counts a failure; true when it reaches <paramref name="limit"/> and the refusal starts.</summary>
        public bool Count(long now, long window, int limit)
        {
            if (Failures == 0)
            {
                WindowStart = now;
            }

            if (++Failures < limit || RefusedUntil != 0)
            {
                return false;
            }

            RefusedUntil = now + window;
            return true;
        }

        /// <summary>Forgets the count once its window has passed, or its refusal has.</summary>
        public void Expire(long now, long window)
        {
            if (RefusedUntil != 0 ? now >= RefusedUntil : Failures > 0 && now - WindowStart >= window)
            {
                this = default;
            }
        }
    }

    /// <summary>What is counted for one address. Guarded by its own lock.</summary>
    private sealed class Client
    {
        public Counter Address;
        public Dictionary<string, Counter>? Users;
        public long LastFailure;
        public long EvictionRank;
        public bool Forgotten;

        public bool IsClear => Address.IsClear && Users is not { Count: > 0 };

        /// <summary>Whether the address, or a name from it, is refused (after <see cref="Expire"/>).</summary>
        public bool IsRefused
        {
            get
            {
                if (Address.RefusedUntil != 0 || Users is null)
                {
                    return Address.RefusedUntil != 0;
                }

                foreach (var counter in Users.Values)
                {
                    if (counter.RefusedUntil != 0)
                    {
                        return true;
                    }
                }

                return false;
            }
        }

        public void Expire(long now, long window)
        {
            Address.Expire(now, window);
            if (Users is null)
            {
                return;
            }

            foreach (var name in Users.Keys)
            {
                ref var counter = ref CollectionsMarshal.GetValueRefOrNullRef(Users, name);
                counter.Expire(now, window);
                if (counter.IsClear)
                {
                    Users.Remove(name);
                }
            }
        }
    }
}
