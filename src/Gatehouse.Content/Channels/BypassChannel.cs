using System.Globalization;
using System.Net;
using Gatehouse.Wire.Addresses;

namespace Gatehouse.Content.Channels;

/// <summary>One destination the agent sends straight out rather than through an edge.</summary>
/// <param name="Domain">A domain (<c>*.example.com</c> covers its subdomains), or <see langword="null"/>.</param>
/// <param name="Network">A network, or <see langword="null"/>.</param>
/// <param name="Ports">The ports it covers; empty for all.</param>
/// <param name="Note">Why it is bypassed.</param>
public sealed record BypassEntry(string? Domain, IPNetwork? Network, IReadOnlyList<int> Ports, string Note);

/// <summary>The bypass list: destinations the agent sends directly (collaboration media, OS updates).</summary>
/// <param name="Entries">The entries.</param>
public sealed record BypassList(IReadOnlyList<BypassEntry> Entries);

/// <summary>
/// The <c>bypass</c> channel, schema version 1: records of <c>kind</c> (<c>domain</c> or
/// <c>cidr</c>), <c>value</c>, <c>ports</c> (comma-separated, empty for all) and <c>note</c>.
/// </summary>
public sealed class BypassChannel : ContentChannel
{
    /// <summary>The channel's name.</summary>
    public const string ChannelName = "bypass";

    // The places of a record's values, for refusals that name one (records[3][1]).
    private const int Kind = 0;
    private const int Value = 1;
    private const int Ports = 2;

    /// <inheritdoc/>
    public override string Name => ChannelName;

    /// <inheritdoc/>
    public override int SchemaVersion => 1;

    /// <inheritdoc/>
    public override IReadOnlyList<string> Fields { get; } = ["kind", "value", "ports", "note"];

    /// <inheritdoc/>
    protected override object LoadRecords(IReadOnlyList<IReadOnlyList<string>> records)
    {
        var entries = new List<BypassEntry>(records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            var ports = ParsePorts(record[2], i);
            entries.Add(record[0] switch
            {
                "domain" => new BypassEntry(ParseDomain(record[1], i), null, ports, record[3]),
                "cidr" => new BypassEntry(null, Wire.Addresses.AddressLiteral.TryParseNetwork(record[1], out var network) ? network : throw Bad(i, Value, $"\"{record[1]}\" is not a CIDR"), ports, record[3]),
                _ => throw Bad(i, Kind, $"kind must be domain or cidr, not \"{record[0]}\""),
            });
        }

        return new BypassList(entries);
    }

    private static string ParseDomain(string value, int index)
    {
        var name = value.StartsWith("*.", StringComparison.Ordinal) ? value[2..] : value;
        if (name.Length is 0 or > 253 || AddressLiteral.TryParse(name, out _) || name.Split('.').Any(label => label.Length is 0 or > 63 || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')))
        {
            throw Bad(index, Value, $"\"{value}\" is not a domain");
        }

        return value.ToLowerInvariant();
    }

    private static List<int> ParsePorts(string value, int index)
    {
        var ports = new List<int>();
        if (value.Length == 0)
        {
            return ports;
        }

        foreach (var part in value.Split(','))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            {
                throw Bad(index, Ports, $"\"{part}\" is not a port");
            }

            ports.Add(port);
        }

        return ports;
    }

    private static ContentException Bad(int index, int field, string why) => new($"bypass content records[{index}]: {why}", $"records[{index}][{field}]");
}
