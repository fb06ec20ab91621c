using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>One malformed, oversized, missing or hostile request and the answer the spec names for it.</summary>
public sealed record BadInput(string Name, Func<Uri, HttpRequestMessage> Build, HttpStatusCode Status, int Code, string MessageFragment);

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
        new("unsupported_protocol_version", url => WithHeader(RawMcp.Post(url, Ping), "MCP-Protocol-Version", "1999-01-01"), HttpStatusCode.BadRequest, -32000, "Supported: 2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25, 2026-07-28"),
        new("batch", url => RawMcp.Post(url, $"[{Ping}]"), HttpStatusCode.BadRequest, -32600, "batches are not supported"),
        new("not_a_message", url => RawMcp.Post(url, """{"hello":"world"}"""), HttpStatusCode.BadRequest, -32600, "Invalid Request"),
        new("scalar_body", url => RawMcp.Post(url, "42"), HttpStatusCode.BadRequest, -32600, "Invalid Request"),
        new("wrong_jsonrpc_version", url => RawMcp.Post(url, """{"jsonrpc":"1.0","id":1,"method":"ping"}"""), HttpStatusCode.BadRequest, -32600, "Invalid Request"),
        new("two_mib_body", url => RawMcp.Post(url, EchoOf(2 * 1024 * 1024)), HttpStatusCode.RequestEntityTooLarge, -32600, "exceeds the limit of 1048576 bytes"),
        new("two_mib_chunked_body", url => Chunked(url, EchoOf(2 * 1024 * 1024)), HttpStatusCode.RequestEntityTooLarge, -32600, "exceeds the limit of 1048576 bytes"),
        new("unknown_tool", url => RawMcp.Post(url, """{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"no_such_tool","arguments":{}}}"""), HttpStatusCode.OK, -32602, "no_such_tool"),
    ];

    public static TheoryData<string> Names => [.. All.Select(input => input.Name)];

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
