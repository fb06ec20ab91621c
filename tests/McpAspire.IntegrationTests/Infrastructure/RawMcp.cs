using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>Speaks MCP's HTTP transport by hand, so tests can send exactly the bytes and headers they mean.</summary>
public static class RawMcp
{
    public const string EchoCall = """{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"still serving"}}}""";

    public static HttpRequestMessage Post(Uri url, string body, string? accept = "application/json, text/event-stream", string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8) };
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
