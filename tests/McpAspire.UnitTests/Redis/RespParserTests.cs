using System.Buffers;
using System.Text;
using McpAspire.ServiceDefaults.Redis;

namespace McpAspire.UnitTests.Redis;

public sealed class RespParserTests
{
    public static TheoryData<string, string> Replies => new()
    {
        { "+OK\r\n", "OK" },
        { "-ERR wrong type\r\n", "(error) ERR wrong type" },
        { ":42\r\n", "42" },
        { ":-7\r\n", "-7" },
        { "$5\r\nhello\r\n", "hello" },
        { "$0\r\n\r\n", string.Empty },
        { "$-1\r\n", "(nil)" },
        { "*-1\r\n", "(nil array)" },
        { "*0\r\n", "[]" },
        { "*3\r\n$1\r\na\r\n:2\r\n$-1\r\n", "[a, 2, (nil)]" },
        { "*2\r\n*1\r\n+x\r\n$2\r\n\r\n\r\n", "[[x], \r\n]" },
    };

    [Theory]
    [MemberData(nameof(Replies))]
    public void Parses_a_complete_reply_and_consumes_exactly_it(string wire, string expected)
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(wire + "+NEXT\r\n"));

        Assert.True(RespParser.TryParse(ref buffer, out var value));

        Assert.Equal(expected, value!.ToString());
        Assert.Equal("+NEXT\r\n", Encoding.UTF8.GetString(buffer.ToArray()));
    }

    [Theory]
    [MemberData(nameof(Replies))]
    public void Waits_for_more_bytes_at_every_byte_boundary(string wire, string expected)
    {
        var bytes = Encoding.UTF8.GetBytes(wire);
        for (var length = 0; length < bytes.Length; length++)
        {
            var partial = new ReadOnlySequence<byte>(bytes, 0, length);
            var before = partial.Length;

            Assert.False(RespParser.TryParse(ref partial, out _), $"a reply was parsed from only {length} of {bytes.Length} bytes");
            Assert.Equal(before, partial.Length);
        }

        var whole = new ReadOnlySequence<byte>(bytes);
        Assert.True(RespParser.TryParse(ref whole, out var value));
        Assert.Equal(expected, value!.ToString());
    }

    [Theory]
    [MemberData(nameof(Replies))]
    public void Parses_a_reply_split_across_segments_at_every_boundary(string wire, string expected)
    {
        var bytes = Encoding.UTF8.GetBytes(wire);
        for (var cut = 1; cut < bytes.Length; cut++)
        {
            var sequence = SegmentedSequence.Split(bytes, [cut]);

            Assert.True(RespParser.TryParse(ref sequence, out var value));
            Assert.Equal(expected, value!.ToString());
            Assert.Equal(0, sequence.Length);
        }
    }

    [Fact]
    public void Parses_a_pipeline_of_replies_under_random_splits()
    {
        var random = new Random(20261121);
        var wire = new StringBuilder();
        var expected = new List<string>();
        for (var i = 0; i < 200; i++)
        {
            var text = new string('v', random.Next(0, 40)) + i;
            wire.Append(i % 3 == 0 ? $"${text.Length}\r\n{text}\r\n" : i % 3 == 1 ? $":{i}\r\n" : $"*2\r\n+{i}\r\n$-1\r\n");
            expected.Add(i % 3 == 0 ? text : i % 3 == 1 ? i.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"[{i}, (nil)]");
        }

        var bytes = Encoding.UTF8.GetBytes(wire.ToString());
        for (var round = 0; round < 50; round++)
        {
            var cuts = Enumerable.Range(0, random.Next(1, 300)).Select(_ => random.Next(1, bytes.Length));
            var sequence = SegmentedSequence.Split(bytes, cuts);
            var parsed = new List<string>();
            while (RespParser.TryParse(ref sequence, out var value))
            {
                parsed.Add(value!.ToString());
            }

            Assert.Equal(expected, parsed);
            Assert.Equal(0, sequence.Length);
        }
    }

    [Theory]
    [InlineData("?what\r\n")]
    [InlineData("$abc\r\n")]
    [InlineData("$-2\r\n")]
    [InlineData("*-5\r\n")]
    [InlineData(":12x\r\n")]
    [InlineData(":\r\n")]
    [InlineData("$3\r\nabcXY")]
    [InlineData("+OK\rX")]
    public void Rejects_bytes_that_are_not_resp(string wire)
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(wire));

        Assert.Throws<RedisProtocolException>(() => RespParser.TryParse(ref buffer, out _));
    }

    [Fact]
    public void Rejects_arrays_nested_beyond_the_depth_limit()
    {
        var wire = string.Concat(Enumerable.Repeat("*1\r\n", RespParser.MaxDepth + 1)) + ":1\r\n";
        var buffer = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(wire));

        Assert.Throws<RedisProtocolException>(() => RespParser.TryParse(ref buffer, out _));
    }

    [Fact]
    public void Does_not_allocate_for_an_array_count_the_buffer_cannot_hold_yet()
    {
        var buffer = new ReadOnlySequence<byte>("*100000000\r\n"u8.ToArray());

        Assert.False(RespParser.TryParse(ref buffer, out _));
    }

    [Fact]
    public void An_incomplete_reply_allocates_nothing_however_much_of_it_has_arrived()
    {
        // 10,000 complete elements of a 10,001-element array: a reply that arrives over many reads.
        var wire = Encoding.UTF8.GetBytes("*10001\r\n" + string.Concat(Enumerable.Repeat("$100\r\n" + new string('x', 100) + "\r\n", 10_000)));
        var buffer = new ReadOnlySequence<byte>(wire);
        Assert.False(RespParser.TryParse(ref buffer, out _));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var complete = RespParser.TryParse(ref buffer, out var value);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.False(complete);
        Assert.Null(value);
        Assert.Equal(wire.Length, buffer.Length);
        Assert.True(allocated < 1024, $"An incomplete 1 MB reply allocated {allocated} bytes.");
    }
}
