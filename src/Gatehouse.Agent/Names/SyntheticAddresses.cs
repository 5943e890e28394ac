using System.Buffers.Binary;
using System.Net;

namespace Gatehouse.Agent.Names;

/// <summary>
/// The map between private apps' names and the synthetic addresses handed out for them, in one /16.
/// Bounded: at <see cref="Capacity"/> names, the least recently used address is given to a new name,
/// but only when nothing used it (no answer, no flow) for <see cref="HoldTime"/>, far longer than the
/// answers' TTL, so that no client still holds it for the old name; while every address is held, a
/// new name gets none (the resolver answers SERVFAIL) rather than taking a live one. Thread-safe.
/// </summary>
internal sealed class SyntheticAddresses
{
    /// <summary>How long clients may cache an answer, in seconds.</summary>
    public const uint Ttl = 60;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<uint, LinkedListNode<Entry>> _byAddress = [];
    private readonly LinkedList<Entry> _recent = new(); // most recently used first
    private readonly TimeProvider _time;
    private readonly uint _base;
    private uint _next;

    /// <param name="range">The /16 (or any IPv4 network) addresses come from.</param>
    /// <param name="capacity">The most names held at once (at most the range's usable addresses).</param>
    /// <param name="holdTime">How long an address stays with its name after its last use.</param>
    /// <param name="time">The clock.</param>
    public SyntheticAddresses(IPNetwork range, int capacity = 4096, TimeSpan? holdTime = null, TimeProvider? time = null)
    {
        Range = range;
        _base = BinaryPrimitives.ReadUInt32BigEndian(range.BaseAddress.GetAddressBytes());
        // Every whole /24 loses its .0 and .255; a smaller range only its first address (.0).
        var size = 1L << (32 - range.PrefixLength);
        var usable = (int)Math.Min(int.MaxValue, size >= 256 ? size / 256 * 254 : size - 1);
        Capacity = Math.Clamp(capacity, 1, usable);
        HoldTime = holdTime ?? TimeSpan.FromMinutes(10);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The network addresses come from.</summary>
    public IPNetwork Range { get; }

    /// <summary>The most names held at once.</summary>
    public int Capacity { get; }

    /// <summary>How long an address stays with its name after its last use.</summary>
    public TimeSpan HoldTime { get; }

    /// <summary>How many names are held.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byName.Count;
            }
        }
    }

    /// <summary>The address of <paramref name="name"/>, given now if it has none; null when every address is held.</summary>
    public IPAddress? AddressFor(string name)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            if (_byName.TryGetValue(name, out var node))
            {
                Touch(node, now);
                return Address(node.Value.Offset);
            }

            uint offset;
            if (_byName.Count < Capacity)
            {
                offset = NextFree();
            }
            else
            {
                var oldest = _recent.Last!;
                if (now - oldest.Value.LastUsed < HoldTime)
                {
                    return null;
                }

                offset = oldest.Value.Offset;
                _recent.RemoveLast();
                _byName.Remove(oldest.Value.Name);
                _byAddress.Remove(offset);
            }

            var entry = _recent.AddFirst(new Entry(name, offset) { LastUsed = now });
            _byName[name] = entry;
            _byAddress[offset] = entry;
            return Address(offset);
        }
    }

    /// <summary>The name <paramref name="address"/> was given to, or null when it is not a synthetic address in use.</summary>
    public string? NameOf(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!Range.Contains(address))
        {
            return null;
        }

        var offset = BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes()) - _base;
        lock (_lock)
        {
            if (!_byAddress.TryGetValue(offset, out var node))
            {
                return null;
            }

            Touch(node, _time.GetUtcNow());
            return node.Value.Name;
        }
    }

    private void Touch(LinkedListNode<Entry> node, DateTimeOffset now)
    {
        node.Value.LastUsed = now;
        _recent.Remove(node);
        _recent.AddFirst(node);
    }

    /// <summary>The next offset no name holds, going round the range.</summary>
    private uint NextFree()
    {
        var size = 1u << (32 - Range.PrefixLength);
        while (true)
        {
            _next = (_next + 1) % size;
            if (IsUsable(_next) && !_byAddress.ContainsKey(_next))
            {
                return _next;
            }
        }
    }

    /// <summary>Addresses ending in .0 or .255 are left out: some software takes them for network or broadcast addresses.</summary>
    private static bool IsUsable(uint offset) => (offset & 0xFF) is not (0 or 0xFF);

    private IPAddress Address(uint offset)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, _base + offset);
        return new IPAddress(bytes);
    }

    private sealed class Entry(string name, uint offset)
    {
        public string Name { get; } = name;

        public uint Offset { get; } = offset;

        public DateTimeOffset LastUsed { get; set; }
    }
}
