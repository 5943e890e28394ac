using Gatehouse.Wire.Logs;

namespace Gatehouse.Portal.Tests.Logs;

/// <summary>The one reader of the logs' host filter, which the API and <c>gatehouse logs query --host</c> share.</summary>
public sealed class TransactionHostFilterTests
{
    [Theory]
    [InlineData("example.com", "example.com", false)]
    [InlineData(" WWW.Example.COM. ", "www.example.com", false)]
    [InlineData("127.0.0.1", "127.0.0.1", false)]
    [InlineData("2001:DB8:0:0::1", "2001:db8::1", false)] // as edges write an address: its canonical text
    [InlineData("[2001:db8::1]", "2001:db8::1", false)]
    [InlineData(".example.com", "example.com", true)]
    [InlineData("*.Example.com", "example.com", true)]
    [InlineData("*.1e100.net", "1e100.net", true)]
    public void Hosts_addresses_and_domains_are_read_as_records_store_them(string text, string host, bool isDomain)
    {
        Assert.True(TransactionHostFilter.TryParse(text, "--host", out var filter, out var error), error);
        Assert.Equal(new TransactionHostFilter(host, isDomain), filter);
    }

    [Theory]
    [InlineData("", "--host is empty; give a host name (www.example.com), an address (192.0.2.1 or 2001:db8::1), or .example.com or *.example.com for every name below example.com.")]
    [InlineData("  ", "--host is empty;")]
    // A wildcard on the text of an address would match 127.0.0.1 by accident of spelling.
    [InlineData("*.0.0.1", "--host '*.0.0.1' ends in a number, as addresses do, not in a domain name: a wildcard takes a domain name (*.example.com), and an address matches only in full (127.0.0.1).")]
    [InlineData(".0.1", "--host '.0.1' ends in a number, as addresses do")]
    [InlineData("*.1", "--host '*.1' ends in a number, as addresses do")]
    [InlineData("127.0.0.1:18001", "--host '127.0.0.1:18001' has a port; a host is written without one (127.0.0.1), and records are not filtered by port.")]
    [InlineData("[2001:db8::1]:443", "--host '[2001:db8::1]:443' has a port; a host is written without one (2001:db8::1)")]
    [InlineData("*.example.com:443", "--host '*.example.com:443' has a port; a host is written without one (*.example.com)")]
    [InlineData("*.", "--host '*.' names no domain after the '*.'; write .example.com or *.example.com for every name below example.com.")]
    [InlineData(".", "--host '.' names no domain after the '.'")]
    [InlineData("www.*.com", "--host 'www.*.com' has a '*' that is not a leading '*.'; a wildcard stands for every name below a domain, as in *.example.com.")]
    [InlineData("*example.com", "--host '*example.com' has a '*' that is not a leading '*.'")]
    [InlineData("bad host", "--host 'bad host' is neither a host name nor an address; give a host name (www.example.com)")]
    [InlineData("10.1", "--host '10.1' is neither a host name nor an address")] // 10.0.0.1 to inet_aton, no address to an edge
    [InlineData("*.bad..com", "--host '*.bad..com' is not a domain name below which to match")]
    public void Anything_else_is_refused_saying_what_is_wrong_with_what_was_typed(string text, string words)
    {
        Assert.False(TransactionHostFilter.TryParse(text, "--host", out var filter, out var error));
        Assert.Null(filter);
        Assert.StartsWith(words, error, StringComparison.Ordinal);
    }

    [Fact]
    public void No_text_at_all_is_empty_too()
    {
        Assert.False(TransactionHostFilter.TryParse(null, "host", out _, out var error));
        Assert.StartsWith("host is empty;", error, StringComparison.Ordinal);
    }
}
