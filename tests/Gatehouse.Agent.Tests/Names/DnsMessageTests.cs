using System.Net;
using Gatehouse.Testing;
using Gatehouse.Wire.Dns;

namespace Gatehouse.Agent.Tests.Names;

public sealed class DnsMessageTests
{
    [Fact]
    public void A_query_is_read_and_answered_with_one_address_under_a_pointer_to_the_question()
    {
        var query = DnsMessage.Query(0x1234, "Wiki.Corp.Test", DnsTypes.A);

        Assert.True(DnsMessage.TryReadQuery(query, out var read, out var error), error);
        Assert.Equal(("wiki.corp.test", DnsTypes.A, (ushort)0x1234), (read!.Name, read.Type, read.Id));
        var answer = DnsMessage.Answer(query, read, IPAddress.Parse("100.64.0.7"), 60);

        Assert.Equal(0x1234, (answer[0] << 8) | answer[1]);
        var (code, addresses) = DnsMessage.ReadAnswer(answer);
        Assert.Equal(DnsResponseCodes.NoError, code);
        Assert.Equal([IPAddress.Parse("100.64.0.7")], addresses);
    }

    [Fact]
    public void Nodata_has_no_records_and_no_error_code()
    {
        var query = DnsMessage.Query(7, "wiki.corp.test", DnsTypes.Aaaa);
        Assert.True(DnsMessage.TryReadQuery(query, out var read, out _));

        var (code, addresses) = DnsMessage.ReadAnswer(DnsMessage.Answer(query, read!, address: null, 60));

        Assert.Equal(DnsResponseCodes.NoError, code);
        Assert.Empty(addresses);
    }

    [Theory]
    [InlineData("", "shorter than a DNS header")]
    [InlineData("12 34 81 00 00 01 00 00 00 00 00 00", "a response, not a query")]
    [InlineData("12 34 01 00 00 02 00 00 00 00 00 00", "2 questions, not one")]
    [InlineData("12 34 01 00 00 01 00 00 00 00 00 00 05 61 62", "a name's label is not valid")]
    [InlineData("12 34 01 00 00 01 00 00 00 00 00 00 c0 0c 00 01 00 01", "a name's compression pointer is broken")]
    [InlineData("12 34 01 00 00 01 00 00 00 00 00 00 01 61 00 00", "the question is cut short")]
    public void Malformed_queries_are_refused_with_the_reason(string hex, string reason)
    {
        var message = Convert.FromHexString(hex.Replace(" ", string.Empty, StringComparison.Ordinal));

        Assert.False(DnsMessage.TryReadQuery(message, out var query, out var error));
        Assert.Equal(reason, error);
        var answer = DnsMessage.Error(message, query, DnsResponseCodes.FormatError);
        Assert.Equal(DnsResponseCodes.FormatError, answer[3] & 0xF);
    }

    [Fact]
    [Trait(Fuzzing.Trait, Fuzzing.Category)]
    public void Random_bytes_never_throw()
    {
        var random = new Random(Fuzzing.Seed(20261204));
        for (var i = 0; i < Fuzzing.Inputs(20_000); i++)
        {
            var message = new byte[random.Next(0, 80)];
            random.NextBytes(message);
            if (message.Length > 3)
            {
                message[2] &= 0x7F; // mostly queries, so the name reader runs
            }

            if (DnsMessage.TryReadQuery(message, out var query, out _))
            {
                _ = DnsMessage.Answer(message, query!, IPAddress.Loopback, 1);
            }
            else
            {
                _ = DnsMessage.Error(message, query, DnsResponseCodes.FormatError);
            }
        }
    }
}
