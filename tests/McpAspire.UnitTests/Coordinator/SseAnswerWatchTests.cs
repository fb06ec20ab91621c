using System.Text;
using McpAspire.McpCoordinator.Routing;

namespace McpAspire.UnitTests.Coordinator;

public sealed class SseAnswerWatchTests
{
    private const string Notification = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}\n\n";

    public static TheoryData<string, bool> Streams => new()
    {
        { Notification, false },
        { Notification + "event: message\ndata: {\"result\":{\"content\":[]},\"id\":1,\"jsonrpc\":\"2.0\"}\n\n", true },
        { "data: {\"jsonrpc\":\"2.0\",\"id\":\"a\",\"error\":{\"code\":-32602,\"message\":\"x\"}}\n\n", true },
        { "event: message\r\ndata:{\"id\":1,\"result\":{}}\r\n\r\n", true },
        // A server-to-client request has an id but is no answer.
        { "data: {\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"sampling/createMessage\",\"params\":{}}\n\n", false },
        // An answer whose event has not ended (the stream broke inside it) has not fully gone through.
        { "data: {\"result\":{\"content\":[]},\"id\":1}\n", false },
        { "data: {\"result\":{\"content\":[]},\"id\":1}", false },
        // Only the first data line of an event counts; a comment or another field is not data.
        { ": {\"result\":1}\n\n", false },
        { "id: 7\nevent: message\ndata: {\"method\":\"x\"}\ndata: {\"result\":1}\n\n", false },
        { "datum: {\"result\":1}\n\n", false },
        // Members before the answer's are read past, unless one is an object the prefix cannot see past.
        { "data: {\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{}}\n\n", true },
        { "data: {\"_meta\":{\"a\":1},\"result\":{}}\n\n", false },
        { "data: not json\n\n", false },
        { "data: [1,2]\n\n", false },
        { "\n\n\n", false },
    };

    [Theory]
    [MemberData(nameof(Streams))]
    public void Tells_whether_a_complete_answer_event_went_through_however_the_bytes_are_split(string stream, bool answered)
    {
        var bytes = Encoding.UTF8.GetBytes(stream);
        for (var split = 0; split <= bytes.Length; split++)
        {
            var watch = new SseAnswerWatch();
            watch.Observe(bytes.AsSpan(0, split));
            watch.Observe(bytes.AsSpan(split));
            Assert.True(answered == watch.SawResponse, $"split at {split}");
        }

        var byteByByte = new SseAnswerWatch();
        foreach (var b in bytes)
        {
            byteByByte.Observe([b]);
        }

        Assert.Equal(answered, byteByByte.SawResponse);
    }

    [Fact]
    public void An_answer_is_recognised_from_the_start_of_an_event_larger_than_the_prefix()
    {
        var large = "data: {\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"" + new string('x', 10 * SseAnswerWatch.PrefixBytes) + "\"}]},\"id\":1}\n\n";
        var watch = new SseAnswerWatch();

        watch.Observe(Encoding.UTF8.GetBytes(large));

        Assert.True(watch.SawResponse);
    }
}
