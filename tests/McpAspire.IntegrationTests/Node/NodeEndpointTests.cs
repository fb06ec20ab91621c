using System.Net;
using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.McpNode;
using ModelContextProtocol.Protocol;

namespace McpAspire.IntegrationTests.Node;

/// <summary>A standalone node (no Redis) in the default stateless mode, over real loopback HTTP.</summary>
public sealed class NodeEndpointTests : IClassFixture<NodeEndpointTests.StandaloneNode>, IDisposable
{
    private readonly ServiceHost<NodeOptions> _node;
    private readonly HttpClient _http = new();

    public void Dispose() => _http.Dispose();

    public NodeEndpointTests(StandaloneNode fixture) => _node = fixture.Host;

    public sealed class StandaloneNode() : NodeFixture(("Node:Id", "standalone-1"));

    [Fact]
    public async Task The_official_client_lists_the_core_tools_and_gets_echos_text_back()
    {
        await using var client = await OfficialClient.ConnectAsync(_node.McpUrl);

        var tools = await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "héllo ✓" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(["echo", "get_capabilities"], tools.Select(tool => tool.Name).Order());
        Assert.True(tools.Single(tool => tool.Name == "echo").ProtocolTool.Annotations!.ReadOnlyHint);
        Assert.Equal("héllo ✓", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
    }

    [Fact]
    public async Task Get_capabilities_reports_the_nodes_id_packs_tools_and_load()
    {
        await using var client = await OfficialClient.ConnectAsync(_node.McpUrl);

        var result = await client.CallToolAsync("get_capabilities", cancellationToken: TestContext.Current.CancellationToken);

        var capabilities = result.StructuredContent!.Value;
        Assert.Equal("standalone-1", capabilities.GetProperty("nodeId").GetString());
        Assert.Equal(["core"], capabilities.GetProperty("packs").EnumerateArray().Select(pack => pack.GetString()));
        Assert.Equal("McpAspire.McpNode", capabilities.GetProperty("service").GetString());
        var echo = capabilities.GetProperty("tools").EnumerateArray().Single(tool => tool.GetProperty("name").GetString() == "echo");
        Assert.Equal("under 1 s", echo.GetProperty("estimatedDuration").GetString());
        Assert.True(capabilities.GetProperty("features").GetProperty("progress").GetBoolean());
        Assert.True(capabilities.GetProperty("features").GetProperty("cancellation").GetBoolean());
        Assert.Equal(1, capabilities.GetProperty("load").GetProperty("inFlight").GetInt32());
        Assert.Equal(64, capabilities.GetProperty("load").GetProperty("maxConcurrency").GetInt32());
        Assert.Equal("ready", capabilities.GetProperty("health").GetString());
        // Without Redis, idempotency keys are only recognized by this node, and the node says so.
        Assert.Equal("in-process", capabilities.GetProperty("features").GetProperty("idempotency").GetString());
    }

    [Theory]
    [MemberData(nameof(BadInputs.ServerNames), MemberType = typeof(BadInputs))]
    public async Task Bad_input_gets_a_clear_error_and_the_node_keeps_serving(string input)
    {
        await BadInputs.AssertRejectedAsync(_http, _node.McpUrl, input);

        Assert.Equal("still serving", await RawMcp.EchoAsync(_http, _node.McpUrl));
    }

    [Theory]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON; Charset=UTF-8")]
    [InlineData("application/json;charset=utf-8")]
    [InlineData("application/json; charset=\"utf-8\"")]
    public async Task Json_with_a_charset_is_served(string contentType)
    {
        using var response = await _http.SendAsync(
            RawMcp.Post(_node.McpUrl, """{"jsonrpc":"2.0","id":1,"method":"ping"}""", contentType: contentType), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull((await RawMcp.ReadMessageAsync(response))["result"]);
    }

    [Fact]
    public async Task A_body_limit_above_kestrels_own_cap_is_honoured()
    {
        await using var node = TestServices.StartNode(("Mcp:MaxRequestBodyBytes", (40 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var ping = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"_meta\":{\"pad\":\"" + new string('p', 35_000_000) + "\"}}}";

        using var response = await _http.SendAsync(RawMcp.Post(node.McpUrl, ping), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull((await RawMcp.ReadMessageAsync(response))["result"]);
    }

    [Fact]
    public async Task A_stateless_answer_is_sent_whole_unless_the_request_asked_for_progress()
    {
        const string WithProgress = """{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"echo","arguments":{"message":"still serving"},"_meta":{"progressToken":"p"}}}""";

        using var whole = await _http.SendAsync(RawMcp.Post(_node.McpUrl, RawMcp.EchoCall), TestContext.Current.CancellationToken);
        using var streamed = await _http.SendAsync(RawMcp.Post(_node.McpUrl, WithProgress), TestContext.Current.CancellationToken);

        Assert.Equal("text/event-stream", whole.Content.Headers.ContentType!.MediaType);
        Assert.NotEqual(true, whole.Headers.TransferEncodingChunked);
        Assert.Equal((await whole.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken)).Length, whole.Content.Headers.ContentLength);
        Assert.Equal("text/event-stream", streamed.Content.Headers.ContentType!.MediaType);
        Assert.True(streamed.Headers.TransferEncodingChunked);
        Assert.Equal("still serving", (await RawMcp.ReadMessageAsync(streamed))["result"]!["content"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_stateless_answer_larger_than_what_is_held_back_is_streamed_intact()
    {
        var message = new string('m', 100_000);
        var call = """{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","arguments":{"message":"MESSAGE"}}}"""
            .Replace("MESSAGE", message, StringComparison.Ordinal);

        using var response = await _http.SendAsync(RawMcp.Post(_node.McpUrl, call), TestContext.Current.CancellationToken);

        Assert.True(response.Headers.TransferEncodingChunked);
        Assert.Equal(message, (await RawMcp.ReadMessageAsync(response))["result"]!["content"]![0]!["text"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("evil.example.com", "http://evil.example.com", "Host 'evil.example.com'")]
    [InlineData("evil.example.com", null, "Host 'evil.example.com'")]
    [InlineData("127.0.0.1", "http://evil.example.com", "Origin 'http://evil.example.com'")]
    [InlineData("localhost", "null", "Origin 'null'")]
    public async Task A_rebound_host_or_foreign_origin_is_forbidden_and_the_node_keeps_serving(string host, string? origin, string named)
    {
        using var response = await _http.SendAsync(RawMcp.Rebound(_node.McpUrl, host, origin), TestContext.Current.CancellationToken);
        using var local = await _http.SendAsync(RawMcp.Rebound(_node.McpUrl, "localhost", "http://localhost:6274"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains(named, RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(response)), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, local.StatusCode);
        Assert.Equal("still serving", await RawMcp.EchoAsync(_http, _node.McpUrl));
    }

    [Fact]
    public async Task A_notification_is_accepted_with_202_and_no_body()
    {
        using var response = await _http.SendAsync(RawMcp.Post(_node.McpUrl, """{"jsonrpc":"2.0","method":"notifications/initialized"}"""), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Get_and_delete_are_405_in_stateless_mode()
    {
        using var get = await _http.GetAsync(_node.McpUrl, TestContext.Current.CancellationToken);
        using var delete = await _http.DeleteAsync(_node.McpUrl, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, delete.StatusCode);
        Assert.Equal("POST", get.Content.Headers.Allow.Single());
    }

    [Fact]
    public async Task A_session_id_is_refused_in_stateless_mode()
    {
        var request = RawMcp.Post(_node.McpUrl, RawMcp.EchoCall);
        request.Headers.Add("Mcp-Session-Id", "made-up");

        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("stateless", RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(response)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_is_json_with_each_check_and_alive_answers()
    {
        using var health = await _http.GetAsync(new Uri(_node.BaseUrl, "/health"), TestContext.Current.CancellationToken);
        using var alive = await _http.GetAsync(new Uri(_node.BaseUrl, "/alive"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        var body = System.Text.Json.Nodes.JsonNode.Parse(await health.Content.ReadAsStringAsync(TestContext.Current.CancellationToken))!;
        Assert.Equal("Healthy", body["status"]!.GetValue<string>());
        Assert.Equal("Healthy", body["checks"]!["self"]!["status"]!.GetValue<string>());
    }
}
