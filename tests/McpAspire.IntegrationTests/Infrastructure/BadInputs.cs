using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>
/// One malformed, oversized, missing or hostile request and the answer the spec names for it. A
/// <see cref="GatewayOnly"/> input breaks a rule only the coordinator adds (the standard headers checked in
/// every version, because it may route on them); a node serves it as the body says.
/// </summary>
public sealed record BadInput(string Name, Func<Uri, HttpRequestMessage> Build, HttpStatusCode Status, int Code, string MessageFragment, bool GatewayOnly = false);

/// <summary>The bad requests every <c>/mcp</c> endpoint (node and coordinator) must answer clearly and survive.</summary>
public static class BadInputs
{
    private const string Ping = """{"jsonrpc":"2.0","id":1,"method":"ping"}""";

    public static IReadOnlyList<BadInput> All { get; } =
    [
        new("malformed_json", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":1,"method":"""), HttpStatusCode.BadRequest, -32700, "Parse error"),
        new("empty_body", url => RawMcp.Post(url, string.Empty), HttpStatusCode.BadRequest, -32700, "Parse error"),
        new("missing_accept", url => RawMcp.Post(url, Ping, accept: null), HttpStatusCode.NotAcceptable, -32000, "text/event-stream"),
        new("accept_json_only", url => RawMcp.Post(url, Ping, accept: "application/json"), HttpStatusCode.NotAcceptable, -32000, "text/event-stream"),
        new("wrong_content_type", url => RawMcp.Post(url, Ping, contentType: "text/plain"), HttpStatusCode.UnsupportedMediaType, -32000, "application/json"),
        new("wrong_content_type_with_charset", url => RawMcp.Post(url, Ping, contentType: "text/plain; charset=utf-8"), HttpStatusCode.UnsupportedMediaType, -32000, "application/json"),
        new("json_in_utf16", url => RawMcp.Post(url, Encoding.Unicode.GetBytes(Ping), contentType: "application/json; charset=utf-16"), HttpStatusCode.UnsupportedMediaType, -32000, "in UTF-8"),
        new("unsupported_protocol_version", url => WithHeader(RawMcp.Post(url, Ping), "MCP-Protocol-Version", "1999-01-01"), HttpStatusCode.BadRequest, -32022, "Supported: 2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25, 2026-07-28"),
        new("batch", url => RawMcp.Post(url, $"[{Ping}]"), HttpStatusCode.BadRequest, -32600, "batches are not supported"),
        new("not_a_message", url => RawMcp.Post(url, """{"hello":"world"}"""), HttpStatusCode.BadRequest, -32600, "Invalid Request"),
        new("scalar_body", url => RawMcp.Post(url, "42"), HttpStatusCode.BadRequest, -32600, "Invalid Request"),
        new("wrong_jsonrpc_version", url => RawMcp.Post(url, """{"jsonrpc":"1.0","id":1,"method":"ping"}"""), HttpStatusCode.BadRequest, -32600, "Invalid Request"),
        new("two_mib_body", url => RawMcp.Post(url, EchoOf(2 * 1024 * 1024)), HttpStatusCode.RequestEntityTooLarge, -32600, "exceeds the limit of 1048576 bytes"),
        new("two_mib_chunked_body", url => Chunked(url, EchoOf(2 * 1024 * 1024)), HttpStatusCode.RequestEntityTooLarge, -32600, "exceeds the limit of 1048576 bytes"),
        new("unknown_tool", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}"""), HttpStatusCode.OK, -32602, "no_such_tool"),

        // Broken JSON.
        new("truncated_json", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","""), HttpStatusCode.BadRequest, -32700, "not valid JSON"),
        new("invalid_utf8", url => RawMcp.Post(url, [.. "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"_meta\":{\"x\":\""u8, 0xC3, 0x28, 0xFF, .. "\"}}}"u8]), HttpStatusCode.BadRequest, -32700, "not valid UTF-8"),
        new("nested_10000_deep", url => RawMcp.Post(url, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"x\":" + new string('[', 10_000) + new string(']', 10_000) + "}}"), HttpStatusCode.BadRequest, -32700, "deeper than 64 levels"),

        // Valid JSON, but not a JSON-RPC 2.0 message.
        new("jsonrpc_missing", url => RawMcp.Post(url, """{"id":1,"method":"ping"}"""), HttpStatusCode.BadRequest, -32600, "'jsonrpc' is missing"),
        new("jsonrpc_number", url => RawMcp.Post(url, """{"jsonrpc":2.0,"id":1,"method":"ping"}"""), HttpStatusCode.BadRequest, -32600, "'jsonrpc' must be the string"),
        new("id_null", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":null,"method":"ping"}"""), HttpStatusCode.BadRequest, -32600, "'id' must be a string or an integer"),
        new("id_boolean", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":true,"method":"ping"}"""), HttpStatusCode.BadRequest, -32600, "'id' must be a string or an integer"),
        new("id_object", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":{"n":1},"method":"ping"}"""), HttpStatusCode.BadRequest, -32600, "'id' must be a string or an integer"),
        new("id_array", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":[1],"method":"ping"}"""), HttpStatusCode.BadRequest, -32600, "'id' must be a string or an integer"),
        new("id_fraction", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":1.5,"method":"ping"}"""), HttpStatusCode.BadRequest, -32600, "'id' must be a string or an integer"),
        new("id_beyond_64_bits", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}"""), HttpStatusCode.BadRequest, -32600, "'id' must be a string or an integer"),
        new("member_twice", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call"}"""), HttpStatusCode.BadRequest, -32600, "'method' appears more than once"),
        new("method_not_a_string", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":1,"method":42}"""), HttpStatusCode.BadRequest, -32600, "'method' must be a string"),
        new("method_and_result", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":1,"method":"ping","result":{}}"""), HttpStatusCode.BadRequest, -32600, "cannot also carry"),
        new("response_without_outcome", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":1}"""), HttpStatusCode.BadRequest, -32600, "exactly one of 'result' and 'error'"),

        // A valid message with params of the wrong shape.
        new("params_string", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":1,"method":"tools/list","params":"all"}"""), HttpStatusCode.OK, -32602, "'params' must be an object, not a string"),
        new("params_array", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["echo"]}"""), HttpStatusCode.OK, -32602, "'params' must be an object, not an array"),
        new("notification_params_number", url => RawMcp.Post(url, """{"jsonrpc":"2.0","method":"notifications/initialized","params":5}"""), HttpStatusCode.BadRequest, -32602, "'params' must be an object, not a number"),
        new("tools_call_without_params", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":1,"method":"tools/call"}"""), HttpStatusCode.OK, -32602, "params.name is required"),
        new("tool_name_number", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":7}}"""), HttpStatusCode.OK, -32602, "params.name must be a string, not a number"),
        new("arguments_array", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":["hi"]}}"""), HttpStatusCode.OK, -32602, "params.arguments must be an object of named arguments, not an array"),
        new("arguments_string", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":"hi"}}"""), HttpStatusCode.OK, -32602, "params.arguments must be an object of named arguments, not a string"),
        new("params_member_twice", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"get_capabilities"}}"""), HttpStatusCode.OK, -32602, "params has a member given more than once"),

        // Methods nobody serves.
        new("unknown_method", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":1,"method":"no/such"}"""), HttpStatusCode.OK, -32601, "no/such"),
        new("unknown_method_2026", url => Per2026(url, "no/such", null, "{}"), HttpStatusCode.NotFound, -32601, "no/such"),
        new("huge_method_name", url => RawMcp.Post(url, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"" + new string('m', 500_000) + "\"}"), HttpStatusCode.OK, -32601, "mmmmmmmm"),

        // Standard headers that disagree with the body.
        new("mcp_method_missing_2026", url => WithoutHeader(Per2026(url, "tools/list", null, "{}"), "Mcp-Method"), HttpStatusCode.BadRequest, -32020, "Mcp-Method header"),
        new("mcp_method_mismatch", url => WithHeader(RawMcp.Post(url, RawMcp.EchoCall), "Mcp-Method", "tools/list"), HttpStatusCode.BadRequest, -32020, "does not match the body's method 'tools/call'", GatewayOnly: true),
        new("mcp_name_missing_2026", url => WithoutHeader(Per2026(url, "tools/call", "echo", """{"name":"echo","arguments":{"message":"hi"}}"""), "Mcp-Name"), HttpStatusCode.BadRequest, -32020, "Mcp-Name header"),
        new("mcp_name_mismatch_2026", url => Per2026(url, "tools/call", "get_capabilities", """{"name":"echo","arguments":{"message":"hi"}}"""), HttpStatusCode.BadRequest, -32020, "'get_capabilities' does not match"),
        new("mcp_name_bad_base64", url => Per2026(url, "tools/call", "=?base64?not*base64?=", """{"name":"echo","arguments":{"message":"hi"}}"""), HttpStatusCode.BadRequest, -32020, "Base64"),
        new("meta_version_without_header", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"""), HttpStatusCode.BadRequest, -32020, "the MCP-Protocol-Version header is missing", GatewayOnly: true),
        new("version_2026_without_meta", url => WithHeader(WithHeader(RawMcp.Post(url, """{"jsonrpc":"2.0","id":1,"method":"tools/list"}"""), "MCP-Protocol-Version", "2026-07-28"), "Mcp-Method", "tools/list"), HttpStatusCode.BadRequest, -32602, "_meta/io.modelcontextprotocol/protocolVersion"),
    ];

    public static TheoryData<string> Names => [.. All.Select(input => input.Name)];

    /// <summary>The inputs every server refuses, gateway or not.</summary>
    public static TheoryData<string> ServerNames => [.. All.Where(input => !input.GatewayOnly).Select(input => input.Name)];

    public static BadInput Named(string name) => All.Single(input => input.Name == name);

    /// <summary>Sends the bad request and checks the answer: status, JSON-RPC code and a message that says what is wrong.</summary>
    public static async Task AssertRejectedAsync(HttpClient http, Uri url, string name)
    {
        var input = Named(name);
        using var request = input.Build(url);
        using var response = await http.SendAsync(request);

        Assert.Equal(input.Status, response.StatusCode);
        var message = await RawMcp.ReadMessageAsync(response);
        Assert.Equal(input.Code, RawMcp.ErrorCode(message));
        Assert.Contains(input.MessageFragment, RawMcp.ErrorMessage(message), StringComparison.Ordinal);
    }

    private static string EchoOf(int size) =>
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"" + new string('x', size) + "\"}}}";

    private static HttpRequestMessage WithHeader(HttpRequestMessage request, string name, string value)
    {
        request.Headers.TryAddWithoutValidation(name, value);
        return request;
    }

    private static HttpRequestMessage WithoutHeader(HttpRequestMessage request, string name)
    {
        request.Headers.Remove(name);
        return request;
    }

    /// <summary>A 2026-07-28 request: the version in the header and in <c>_meta</c>, and the method and name headers.</summary>
    private static HttpRequestMessage Per2026(Uri url, string method, string? name, string parameters)
    {
        const string Meta = "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}}";
        var withMeta = parameters == "{}" ? "{" + Meta + "}" : parameters[..^1] + "," + Meta + "}";
        var request = RawMcp.Post(url, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"" + method + "\",\"params\":" + withMeta + "}");
        request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2026-07-28");
        request.Headers.TryAddWithoutValidation("Mcp-Method", method);
        if (name is not null)
        {
            request.Headers.TryAddWithoutValidation("Mcp-Name", name);
        }

        return request;
    }

    private static HttpRequestMessage Chunked(Uri url, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            // A stream of unknown length is sent chunked, with no Content-Length to reject up front.
            Content = new StreamContent(new UnseekableStream(Encoding.UTF8.GetBytes(body))),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        return request;
    }

    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
