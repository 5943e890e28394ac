using Gatehouse.Agent.Dr;

namespace Gatehouse.Agent.Tests.Dr;

/// <summary>
/// <see cref="TxtLookup.Parse"/> on hand-built answers: compressed names, records split in several
/// strings, CNAME chains, and answers that are not for the name asked.
/// </summary>
public sealed class TxtLookupParseTests
{
    private const string Name = "_dr.example.com";

    // The question's name at offset 12: 3 "_dr" 7 "example" 3 "com" 0; "example.com" starts at 16.
    private static readonly byte[] QuestionName = [3, .. "_dr"u8, 7, .. "example"u8, 3, .. "com"u8, 0];
    private static readonly byte[] PointerToQuestion = [0xC0, 12];
    private static readonly byte[] PointerToExampleCom = [0xC0, 16];

    [Fact]
    public void A_record_split_in_two_strings_under_a_compressed_name_is_read_joined()
    {
        var message = Answer(
            Record(PointerToQuestion, 16, Strings("gatehouse-dr=1 tenant=a", " sig=b")),
            Record([5, .. "other"u8, .. PointerToExampleCom], 16, Strings("another name's record")));

        var records = TxtLookup.Parse(message, Name);

        Assert.Equal(["gatehouse-dr=1 tenant=a sig=b"], records);
    }

    [Fact]
    public void A_record_reached_through_a_CNAME_is_read_and_the_names_case_does_not_matter()
    {
        // alias.example.com, written in the CNAME's data at offset 12 + 21 (question) + 12 (record header).
        const int aliasOffset = 12 + 21 + 12;
        var message = Answer(
            Record(PointerToQuestion, 5, [5, .. "alias"u8, .. PointerToExampleCom]),
            Record([0xC0, aliasOffset], 16, Strings("via the alias")));

        Assert.Equal(["via the alias"], TxtLookup.Parse(message, "_DR.Example.com."));
    }

    [Fact]
    public void A_name_that_does_not_exist_has_no_records()
    {
        var message = Answer();
        message[3] = 0x83; // RA, NXDOMAIN

        Assert.Empty(TxtLookup.Parse(message, Name));
    }

    [Fact]
    public void An_answer_to_another_question_is_refused()
    {
        Assert.Throws<InvalidDataException>(() => TxtLookup.Parse(Answer(Record(PointerToQuestion, 16, Strings("x"))), "other.example.com"));
    }

    [Fact]
    public void A_cut_short_answer_an_error_code_and_a_pointer_loop_are_refused()
    {
        var whole = Answer(Record(PointerToQuestion, 16, Strings("gatehouse-dr=1")));
        var failure = Answer();
        failure[3] = 0x82; // SERVFAIL
        var loop = Answer(Record([0xC0, 12 + 21], 16, Strings("x")));

        Assert.Throws<InvalidDataException>(() => TxtLookup.Parse(whole.AsSpan(0, whole.Length - 3), Name));
        Assert.Contains("error code 2", Assert.Throws<InvalidDataException>(() => TxtLookup.Parse(failure, Name)).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => TxtLookup.Parse(loop, Name));
    }

    private static byte[] Answer(params byte[][] records)
    {
        byte[] header = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, (byte)records.Length, 0, 0, 0, 0];
        return [.. header, .. QuestionName, 0, 16, 0, 1, .. records.SelectMany(r => r)];
    }

    private static byte[] Record(byte[] owner, byte type, byte[] data) =>
        [.. owner, 0, type, 0, 1, 0, 0, 1, 44, (byte)(data.Length >> 8), (byte)data.Length, .. data];

    private static byte[] Strings(params string[] strings) =>
        [.. strings.SelectMany(s => (byte[])[(byte)s.Length, .. System.Text.Encoding.ASCII.GetBytes(s)])];
}
