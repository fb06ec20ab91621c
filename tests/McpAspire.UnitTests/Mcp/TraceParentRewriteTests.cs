using System.Buffers;
using System.Text;
using McpAspire.Mcp;

namespace McpAspire.UnitTests.Mcp;

/// <summary>The coordinator swaps the caller's <c>params._meta.traceparent</c> for its own span, touching nothing else.</summary>
public sealed class TraceParentRewriteTests
{
    private const string Old = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    private const string New = "00-11111111111111111111111111111111-2222222222222222-01";

    private static (bool Replaced, string Body) Rewrite(string json, string traceparent = New)
    {
        var bytes = Encoding.UTF8.GetBytes(json.Replace("OLD", Old, StringComparison.Ordinal));
        using var request = Unparsed(bytes);
        var replaced = request.TryReplaceTraceParent(traceparent);
        return (replaced, Encoding.UTF8.GetString(request.Body.Span).Replace(Old, "OLD", StringComparison.Ordinal));
    }

    private static McpHttpRequest Unparsed(byte[] bytes)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(bytes.Length);
        bytes.CopyTo(buffer, 0);
        return new McpHttpRequest(buffer, bytes.Length, McpProtocol.DefaultVersion);
    }

    [Fact]
    public void The_value_is_read_from_the_raw_body_and_a_body_that_is_not_json_has_none()
    {
        using var traced = Unparsed(Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","_meta":{"traceparent":"OLD"}}}""".Replace("OLD", Old, StringComparison.Ordinal)));
        using var broken = Unparsed(Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0",,"params":{"_meta":{"traceparent":"OLD"}}}""".Replace("OLD", Old, StringComparison.Ordinal)));
        using var deep = Unparsed(Encoding.UTF8.GetBytes(new string('[', 10_000)));

        Assert.Equal(Old, traced.MetaTraceParent);
        Assert.False(traced.IsParsed);
        Assert.Throws<InvalidOperationException>(() => traced.Message);
        Assert.Null(broken.MetaTraceParent);
        Assert.Null(deep.MetaTraceParent);
        Assert.False(deep.TryReplaceTraceParent(New));
    }

    [Fact]
    public void The_value_is_replaced_in_place_and_the_rest_keeps_its_bytes()
    {
        var json = """{ "jsonrpc":"2.0", "id":1, "method":"tools/call", "params":{"name":"echo","arguments":{"a":[1,{"b":2}]},"_meta":{"progressToken":3, "traceparent":"OLD"}} }""";

        var (replaced, body) = Rewrite(json);

        Assert.True(replaced);
        Assert.Equal(json.Replace("OLD", New, StringComparison.Ordinal), body);
    }

    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"_meta":{"traceparent":"OLD"}}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","_meta":{"traceparent":"OLD"},"params":{}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"traceparent":42}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"traceparent":"00-short"}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"traceparent":"\u0030\u0030-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331"}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":"traceparent"}}""")]
    public void Anything_but_a_plain_value_at_that_path_is_left_alone(string json)
    {
        var (replaced, body) = Rewrite(json);

        Assert.False(replaced);
        Assert.Equal(json, body);
    }

    [Fact]
    public void A_replacement_of_another_length_is_refused()
    {
        var json = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"traceparent":"OLD"}}}""";

        var (replaced, body) = Rewrite(json, "00-abc");

        Assert.False(replaced);
        Assert.Equal(json, body);
    }
}
