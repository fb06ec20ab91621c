using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>Speaks MCP's HTTP transport by hand, so tests can send exactly the bytes and headers they mean.</summary>
public static class RawMcp
{
    public const string EchoCall = """{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"still serving"}}}""";

    public static HttpRequestMessage Post(Uri url, string body, string? accept = "application/json, text/event-stream", string contentType = "application/json") =>
        Post(url, Encoding.UTF8.GetBytes(body), accept, contentType);

    /// <summary>A POST of exactly these bytes, valid UTF-8 or not.</summary>
    public static HttpRequestMessage Post(Uri url, byte[] body, string? accept = "application/json, text/event-stream", string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        return request;
    }

    /// <summary>The JSON-RPC message of a response, whether it came as JSON or as the first SSE event.</summary>
    public static async Task<JsonObject> ReadMessageAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
        {
            text = text.Split('\n').Where(line => line.StartsWith("data:", StringComparison.Ordinal)).Select(line => line[5..].Trim()).Last();
        }

        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>The echo call as a page on another site would send it after rebinding its name to this machine.</summary>
    public static HttpRequestMessage Rebound(Uri url, string host, string? origin)
    {
        var request = Post(url, EchoCall);
        request.Headers.Host = host;
        if (origin is not null)
        {
            request.Headers.TryAddWithoutValidation("Origin", origin);
        }

        return request;
    }

    /// <summary>Every JSON-RPC message of an SSE response, in the order they were sent.</summary>
    public static async Task<JsonNode[]> ReadEventsAsync(HttpResponseMessage response) =>
        (await response.Content.ReadAsStringAsync())
            .Split('\n')
            .Where(line => line.StartsWith("data:", StringComparison.Ordinal))
            .Select(line => JsonNode.Parse(line[5..])!)
            .ToArray();

    /// <summary>
    /// Opens a session on a stateful endpoint: <c>initialize</c>, then <c>notifications/initialized</c>, as
    /// <paramref name="user"/> (see <see cref="HeaderUser"/>) or anonymously.
    /// </summary>
    public static async Task<string> StartSessionAsync(HttpClient http, Uri url, string? user = null)
    {
        const string Initialize = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""";
        using var response = await http.SendAsync(HeaderUser.As(user, Post(url, Initialize)), TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var session = response.Headers.GetValues("Mcp-Session-Id").Single();
        using var initialized = await http.SendAsync(HeaderUser.As(user, InSession(Post(url, """{"jsonrpc":"2.0","method":"notifications/initialized"}"""), session)), TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, initialized.StatusCode);
        return session;
    }

    /// <summary>Adds the session header to a request.</summary>
    public static HttpRequestMessage InSession(HttpRequestMessage request, string session)
    {
        request.Headers.Add("Mcp-Session-Id", session);
        return request;
    }

    public static int? ErrorCode(JsonObject message) => message["error"]?["code"]?.GetValue<int>();

    public static string? ErrorMessage(JsonObject message) => message["error"]?["message"]?.GetValue<string>();

    /// <summary>Calls <c>echo</c> and returns its text: the proof that a service still serves after bad input.</summary>
    public static async Task<string> EchoAsync(HttpClient http, Uri url)
    {
        using var response = await http.SendAsync(Post(url, EchoCall));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var message = await ReadMessageAsync(response);
        return message["result"]!["content"]![0]!["text"]!.GetValue<string>();
    }
}
