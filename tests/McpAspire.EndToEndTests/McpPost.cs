using System.Text;
using System.Text.Json.Nodes;

namespace McpAspire.EndToEndTests;

/// <summary>Raw Streamable HTTP requests to an <c>/mcp</c> endpoint, for tests that watch the wire.</summary>
internal static class McpPost
{
    /// <summary>A POST of one JSON-RPC message that accepts JSON and SSE answers, in <paramref name="session"/> when given.</summary>
    public static HttpRequestMessage To(Uri url, string body, string? session = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        if (session is not null)
        {
            request.Headers.Add("Mcp-Session-Id", session);
        }

        return request;
    }

    /// <summary>The last JSON-RPC message of an answer: the body when it is JSON, the last event's data when it is SSE.</summary>
    public static async Task<JsonNode> LastMessageAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var json = text.StartsWith('{') ? text : text.Split('\n').Last(line => line.StartsWith("data:", StringComparison.Ordinal))[5..];
        return JsonNode.Parse(json)!;
    }
}
