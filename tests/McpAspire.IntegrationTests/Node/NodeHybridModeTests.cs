using System.Net;
using McpAspire.IntegrationTests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpAspire.IntegrationTests.Node;

/// <summary>
/// A node with <c>Mcp:SessionMode=StatefulForInitializeClients</c>: clients that send <c>initialize</c> get a
/// session, and 2026-07-28 clients are served per request on the same endpoint.
/// </summary>
public sealed class NodeHybridModeTests(NodeHybridModeTests.HybridNode fixture) : IClassFixture<NodeHybridModeTests.HybridNode>, IDisposable
{
    private readonly HttpClient _http = new();

    public sealed class HybridNode() : NodeFixture(("Mcp:SessionMode", "StatefulForInitializeClients"));

    public void Dispose() => _http.Dispose();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_2026_07_28_client_is_served_without_a_session_and_a_2025_client_gets_one()
    {
        await using var latest = await OfficialClient.ConnectAsync(fixture.Host.McpUrl, new McpClientOptions());
        await using var older = await OfficialClient.ConnectAsync(fixture.Host.McpUrl, new McpClientOptions { ProtocolVersion = "2025-11-25" });

        var fromLatest = await latest.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "per request" }, cancellationToken: Cancel);
        var fromOlder = await older.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "in a session" }, cancellationToken: Cancel);

        Assert.Equal("2026-07-28", latest.NegotiatedProtocolVersion);
        Assert.True(string.IsNullOrEmpty(latest.SessionId));
        Assert.Equal("per request", Assert.IsType<TextContentBlock>(Assert.Single(fromLatest.Content)).Text);
        Assert.Equal("2025-11-25", older.NegotiatedProtocolVersion);
        Assert.False(string.IsNullOrEmpty(older.SessionId));
        Assert.Equal("in a session", Assert.IsType<TextContentBlock>(Assert.Single(fromOlder.Content)).Text);
    }

    [Fact]
    public async Task A_2025_request_without_a_session_is_refused_and_a_2026_07_28_answer_is_sent_whole()
    {
        using var withoutSession = await _http.SendAsync(RawMcp.Post(fixture.Host.McpUrl, RawMcp.EchoCall), Cancel);
        var request = RawMcp.Post(fixture.Host.McpUrl, """{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"whole"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}""");
        request.Headers.Add("MCP-Protocol-Version", "2026-07-28");
        request.Headers.Add("Mcp-Method", "tools/call");
        request.Headers.Add("Mcp-Name", "echo");
        using var perRequest = await _http.SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.BadRequest, withoutSession.StatusCode);
        Assert.Contains("Mcp-Session-Id header", RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(withoutSession)), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, perRequest.StatusCode);
        Assert.False(perRequest.Headers.Contains("Mcp-Session-Id"));
        Assert.Equal((await perRequest.Content.ReadAsByteArrayAsync(Cancel)).Length, perRequest.Content.Headers.ContentLength);
        Assert.Equal("whole", (await RawMcp.ReadMessageAsync(perRequest))["result"]!["content"]![0]!["text"]!.GetValue<string>());
    }
}
