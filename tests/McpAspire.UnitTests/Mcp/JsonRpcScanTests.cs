using System.Text;
using McpAspire.Mcp;
using ModelContextProtocol.Protocol;

namespace McpAspire.UnitTests.Mcp;

public sealed class JsonRpcScanTests
{
    [Fact]
    public void A_call_gives_its_method_id_and_progress_token_wherever_its_members_sit()
    {
        var summary = Scan("""{"params":{"_meta":{"x":[1,{"progressToken":0}],"progressToken":"p"},"arguments":{"name":7},"name":"echo"},"id":"a-1","jsonrpc":"2.0","method":"tools/call"}""");

        Assert.Equal(("tools/call", new RequestId("a-1"), true, true, (string?)null), (summary.Method, summary.Id, summary.IsRequest, summary.HasProgressToken, summary.ParamsProblem));
    }

    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ech\u006f","arguments":{"name":"other"}}}""", "echo", null, false)]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","tracestate":"a=b"},"uri":"demo://x"}}""", "demo://x", "2026-07-28", true)]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","_meta":{"io.modelcontextprotocol/protocolVersion":7,"x":{"tracestate":1}}}}""", "echo", null, false)]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"name":"echo"}}""", null, null, false)]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\ud800","_meta":{"io.modelcontextprotocol/protocolVersion":"\udfff"}}}""", null, null, false)]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":[]}}""", null, null, false)]
    public void A_valid_call_gives_what_it_names_its_meta_version_and_whether_it_has_a_tracestate(string body, string? target, string? version, bool traceState)
    {
        var summary = Scan(body);

        Assert.Equal((target, version, traceState), (summary.Target, summary.MetaVersion, summary.HasTraceState));
    }

    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","_meta":{"pad":{"progressToken":1}}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"_meta":{"progressToken":1}}}}""")]
    public void Only_a_progress_token_in_params_meta_counts(string body) => Assert.False(Scan(body).HasProgressToken);

    [Theory]
    [InlineData("""{"jsonrpc":"2.0","method":"notifications/initialized","params":{}}""", "notifications/initialized", false)]
    [InlineData("""{"jsonrpc":"2.0","id":9223372036854775807,"method":"ping"}""", "ping", true)]
    [InlineData("""{"jsonrpc":"2.0","id":3,"result":{}}""", null, false)]
    public void Requests_notifications_and_responses_are_told_apart(string body, string? method, bool isRequest)
    {
        var summary = Scan(body);

        Assert.Equal((method, isRequest, (string?)null), (summary.Method, summary.IsRequest, summary.ParamsProblem));
    }

    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"na\u006de":"echo","name":"echo"}}""", "params has a member given more than once")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{},"arguments":{}}}""", "params has a member given more than once")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","extra":1,"ex\u0074ra":2}}""", "params has a member given more than once")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"uri":"a","uri":"b"}}""", "params has a member given more than once")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":null}}""", "params.name is required (a string)")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":{"a":1}}}""", "params.uri must be a string, not an object")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":true}}""", "params.arguments must be an object of named arguments, not a boolean")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/list","params":[]}""", "'params' must be an object, not an array")]
    public void Params_of_the_wrong_shape_are_named(string body, string problem) => Assert.Equal(problem, Scan(body).ParamsProblem);

    [Fact]
    public void More_params_members_than_the_limit_are_refused_and_the_limit_itself_is_not()
    {
        static string With(int members) => """{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{""" +
            string.Join(",", Enumerable.Range(0, members).Select(i => $"\"m{i}\":{i}")) + "}}";

        Assert.Null(Scan(With(JsonRpcScan.MaxParamsMembers)).ParamsProblem);
        Assert.Equal("params has 1025 members; at most 1024 are accepted", Scan(With(JsonRpcScan.MaxParamsMembers + 1)).ParamsProblem);
    }

    private static JsonRpcSummary Scan(string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        Assert.Null(JsonRpcEnvelope.Check(bytes));
        return JsonRpcScan.Scan(bytes);
    }
}
