using System.Diagnostics.CodeAnalysis;
using Gatehouse.Wire.Addresses;

namespace Gatehouse.Wire.Logs;

/// <summary>
/// The host filter of a transaction-log query (<c>GET /api/v1/logs?host=</c>, <c>gatehouse logs query --host</c>):
/// one host, a DNS name or an address, that a record's host or TLS server name equals; or, written
/// <c>.example.com</c> or <c>*.example.com</c> as policy writes it, every name below a domain. The portal reads the
/// parameter with <see cref="TryParse"/> and the CLI checks its option with it, so the two refuse the same text with
/// the same words.
/// </summary>
/// <param name="Host">
/// The host as records store it: a name lower case without a final dot, or an address in its canonical text (IPv6
/// without brackets); for <see cref="IsDomain"/>, the domain.
/// </param>
/// <param name="IsDomain">Whether the filter matches every name below <see cref="Host"/> rather than <see cref="Host"/> itself.</param>
public sealed record TransactionHostFilter(string Host, bool IsDomain)
{
    private const string WhatToWrite =
        "give a host name (www.example.com), an address (192.0.2.1 or 2001:db8::1), or .example.com or *.example.com for every name below example.com";

    /// <summary>What a name ends with when it lies below <see cref="Host"/>: <c>.example.com</c>.</summary>
    public string Suffix => "." + Host;

    /// <summary>
    /// Reads a host filter as a user writes it. A wildcard takes a DNS name only: the text of an address is not a
    /// domain, and <c>*.0.0.1</c> matching 127.0.0.1 would be a match by accident of spelling.
    /// </summary>
    /// <param name="text">The filter as given.</param>
    /// <param name="name">The parameter or option to name in <paramref name="error"/> (<c>host</c>, <c>--host</c>).</param>
    /// <param name="filter">The filter, when <paramref name="text"/> is one.</param>
    /// <param name="error">Otherwise a sentence that quotes <paramref name="text"/>, says what is wrong with it and what to write.</param>
    public static bool TryParse(string? text, string name, [NotNullWhen(true)] out TransactionHostFilter? filter, [NotNullWhen(false)] out string? error)
    {
        filter = null;
        error = Check(text?.Trim() ?? "", name, text, out var host, out var isDomain);
        if (error is null)
        {
            filter = new TransactionHostFilter(host, isDomain);
        }

        return error is null;
    }

    private static string? Check(string trimmed, string name, string? text, out string host, out bool isDomain)
    {
        host = "";
        isDomain = trimmed.StartsWith('.') || trimmed.StartsWith("*.", StringComparison.Ordinal);
        var rest = isDomain ? trimmed[(trimmed.IndexOf('.', StringComparison.Ordinal) + 1)..] : trimmed;
        if (trimmed.Length == 0)
        {
            return $"{name} is empty; {WhatToWrite}.";
        }

        var wildcard = trimmed[..^rest.Length];
        if (WithoutPort(rest) is { } withoutPort)
        {
            return $"{name} '{text}' has a port; a host is written without one ({wildcard}{withoutPort}), and records are not filtered by port.";
        }

        // After the port: IPAddress reads [2001:db8::1]:443 as an address, dropping the port.
        if (!isDomain && AddressLiteral.TryParse(rest, out var address))
        {
            host = address.ToString();
            return null;
        }

        if (rest.Contains('*', StringComparison.Ordinal))
        {
            return $"{name} '{text}' has a '*' that is not a leading '*.'; a wildcard stands for every name below a domain, as in *.example.com.";
        }

        if (isDomain && rest.TrimEnd('.').Length == 0)
        {
            return $"{name} '{text}' names no domain after the '{wildcard}'; write .example.com or *.example.com for every name below example.com.";
        }

        if (isDomain && IsNumeric(rest.TrimEnd('.').Split('.')[^1]))
        {
            // No top-level domain is all digits (RFC 3696, section 2), while every IPv4 address ends in digits.
            return $"{name} '{text}' ends in a number, as addresses do, not in a domain name: a wildcard takes a domain name (*.example.com), and an address matches only in full (127.0.0.1).";
        }

        if (!DomainName.TryNormalise(rest, allowWildcard: false, out host))
        {
            return isDomain
                ? $"{name} '{text}' is not a domain name below which to match; a name is labels of letters, digits, '-' and '_' separated by dots, as in *.example.com."
                : $"{name} '{text}' is neither a host name nor an address; {WhatToWrite}.";
        }

        return null;
    }

    /// <summary>The host of <c>HOST:PORT</c> or <c>[IPv6]:PORT</c>, when that is what <paramref name="text"/> is.</summary>
    private static string? WithoutPort(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !IsNumeric(text[(colon + 1)..]))
        {
            return null;
        }

        var host = text[..colon];
        return host.StartsWith('[') && host.EndsWith(']') && AddressLiteral.TryParse(host, out var v6) ? v6.ToString()
            : !host.Contains(':', StringComparison.Ordinal) ? host
            : null;
    }

    private static bool IsNumeric(string text) => text.Length > 0 && text.All(char.IsAsciiDigit);
}
