using System.Net;
using System.Text.Json.Nodes;
using McpAspire.AppHost.Hosting;
using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.McpCoordinator;
using McpAspire.ServiceDefaults.Cluster;
using McpAspire.ServiceDefaults.Redis;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpAspire.IntegrationTests.Coordinator;

/// <summary>A coordinator in front of two real nodes, all sharing a Garnet of their own.</summary>
public sealed class CoordinatorTests(CoordinatorTests.Cluster cluster) : IClassFixture<CoordinatorTests.Cluster>, IDisposable
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private readonly HttpClient _http = new();

    public void Dispose() => _http.Dispose();

    public sealed class Cluster : CoordinatorCluster
    {
        protected override async Task StartServicesAsync()
        {
            Own(TestServices.StartNode(("ConnectionStrings:redis", Store.ConnectionString), ("Node:Id", "node-a"), ("Node:HeartbeatInterval", "00:00:00.200")));
            Own(TestServices.StartNode(("ConnectionStrings:redis", Store.ConnectionString), ("Node:Id", "node-b"), ("Node:HeartbeatInterval", "00:00:00.200")));
            Coordinator = Own(TestServices.StartCoordinator(Store.ConnectionString, ("Coordinator:RegistryRefreshInterval", "00:00:00.100")));
            await WaitForNodesAsync("node-a", "node-b");
        }
    }

    [Fact]
    public async Task The_official_client_sees_the_union_of_the_nodes_tools_and_calls_them()
    {
        await using var client = await ConnectAsync();

        var tools = await client.ListToolsAsync(cancellationToken: Cancel);
        var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "through the coordinator" }, cancellationToken: Cancel);

        Assert.Equal("McpAspire.McpCoordinator", client.ServerInfo!.Name);
        Assert.Equal(["echo", "get_capabilities"], tools.Select(tool => tool.Name));
        Assert.Equal("through the coordinator", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
    }

    [Fact]
    public async Task Calls_are_spread_over_the_nodes()
    {
        await using var client = await ConnectAsync();
        var seen = new HashSet<string>();

        for (var i = 0; i < 200 && seen.Count < 2; i++)
        {
            var result = await client.CallToolAsync("get_capabilities", cancellationToken: Cancel);
            seen.Add(result.StructuredContent!.Value.GetProperty("nodeId").GetString()!);
        }

        Assert.Equal(["node-a", "node-b"], seen.Order());
    }

    [Fact]
    public async Task An_unknown_tool_is_the_invalid_params_error_naming_the_tool()
    {
        await using var client = await ConnectAsync();

        var error = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("no_such_tool", cancellationToken: Cancel).AsTask());

        Assert.Equal(McpErrorCode.InvalidParams, error.ErrorCode);
        Assert.Contains("no_such_tool", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BadInputs.Names), MemberType = typeof(BadInputs))]
    public async Task Bad_input_gets_a_clear_error_and_the_coordinator_keeps_serving(string input)
    {
        await BadInputs.AssertRejectedAsync(_http, cluster.Coordinator.McpUrl, input);

        Assert.Equal("still serving", await RawMcp.EchoAsync(_http, cluster.Coordinator.McpUrl));
    }

    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":{"x":1},"_meta":["traceparent"]}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"traceparent":"not-a-trace","tracestate":7}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"traceparent":"\ud800"}}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"\udc00"}}""")]
    public async Task Odd_params_on_locally_answered_methods_still_get_a_result(string body)
    {
        using var response = await _http.SendAsync(RawMcp.Post(cluster.Coordinator.McpUrl, body), Cancel);

        var message = await RawMcp.ReadMessageAsync(response);
        Assert.NotNull(message["result"]);
        Assert.Equal("still serving", await RawMcp.EchoAsync(_http, cluster.Coordinator.McpUrl));
    }

    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call"}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":42}}""")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\ud800"}}""")]
    public async Task A_tools_call_without_a_tool_name_is_invalid_params(string body)
    {
        using var response = await _http.SendAsync(RawMcp.Post(cluster.Coordinator.McpUrl, body), Cancel);

        var message = await RawMcp.ReadMessageAsync(response);
        Assert.Equal(-32602, RawMcp.ErrorCode(message));
        Assert.Contains("params.name", RawMcp.ErrorMessage(message), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":["2025-11-25"]}""", "'params' must be an object, not an array")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["echo"]}""", "'params' must be an object, not an array")]
    [InlineData("""{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{},"_meta":{"traceparent":"x"}}}""", "params has a member given more than once")]
    public async Task Params_that_are_not_one_object_are_invalid_params(string body, string problem)
    {
        using var response = await _http.SendAsync(RawMcp.Post(cluster.Coordinator.McpUrl, body), Cancel);

        var message = await RawMcp.ReadMessageAsync(response);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(-32602, RawMcp.ErrorCode(message));
        Assert.Contains(problem, RawMcp.ErrorMessage(message), StringComparison.Ordinal);
        Assert.Equal("still serving", await RawMcp.EchoAsync(_http, cluster.Coordinator.McpUrl));
    }

    [Fact]
    public async Task A_rebound_host_is_forbidden_and_the_coordinator_keeps_serving()
    {
        using var response = await _http.SendAsync(RawMcp.Rebound(cluster.Coordinator.McpUrl, "evil.example.com", "http://evil.example.com"), Cancel);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Mcp:AllowedHosts", RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(response)), StringComparison.Ordinal);
        Assert.Equal("still serving", await RawMcp.EchoAsync(_http, cluster.Coordinator.McpUrl));
    }

    [Fact]
    public async Task An_unknown_method_is_method_not_found()
    {
        using var response = await _http.SendAsync(RawMcp.Post(cluster.Coordinator.McpUrl, """{"jsonrpc":"2.0","id":9,"method":"resources/list"}"""), Cancel);

        var message = await RawMcp.ReadMessageAsync(response);
        Assert.Equal(-32601, RawMcp.ErrorCode(message));
        Assert.Equal(9, message["id"]!.GetValue<int>());
    }

    [Fact]
    public async Task Api_nodes_shows_each_node_with_status_load_tools_and_heartbeat_age()
    {
        await RawMcp.EchoAsync(_http, cluster.Coordinator.McpUrl);

        var body = JsonNode.Parse(await _http.GetStringAsync(new Uri(cluster.Coordinator.BaseUrl, "/api/nodes"), Cancel))!;

        Assert.False(body["stale"]!.GetValue<bool>());
        var nodes = body["nodes"]!.AsArray().Where(node => node!["id"]!.GetValue<string>().StartsWith("node-", StringComparison.Ordinal)).ToList();
        Assert.Equal(["node-a", "node-b"], nodes.Select(node => node!["id"]!.GetValue<string>()));
        Assert.All(nodes, node =>
        {
            Assert.Equal("ready", node!["status"]!.GetValue<string>());
            Assert.Equal(["echo", "get_capabilities"], node["tools"]!.AsArray().Select(tool => tool!.GetValue<string>()));
            Assert.InRange(node["heartbeatAgeMs"]!.GetValue<long>(), -1000, 6000);
            Assert.Equal(64, node["maxConcurrency"]!.GetValue<int>());
        });
        Assert.True(nodes.Sum(node => node!["callsRouted"]!.GetValue<long>()) >= 1);
    }

    [Fact]
    public async Task A_node_that_cannot_be_reached_is_skipped_without_failing_any_call()
    {
        await cluster.RegisterAsync("ghost", new Uri($"http://127.0.0.1:{PortAllocator.GetFreePort()}/mcp"), "echo");
        try
        {
            var answers = new List<string>();
            for (var i = 0; i < 30; i++)
            {
                answers.Add(await RawMcp.EchoAsync(_http, cluster.Coordinator.McpUrl));
            }

            Assert.All(answers, answer => Assert.Equal("still serving", answer));
        }
        finally
        {
            await cluster.UnregisterAsync("ghost");
        }
    }

    [Fact]
    public async Task A_call_that_fails_after_it_was_sent_is_reported_as_maybe_run_and_never_retried()
    {
        await using var first = await FaultyNode.StartAsync(FaultyNode.Fault.HangUpBeforeAnswering);
        await using var second = await FaultyNode.StartAsync(FaultyNode.Fault.HangUpBeforeAnswering);
        await cluster.RegisterAsync("hangs-up-1", first.McpUrl, "fragile_write");
        await cluster.RegisterAsync("hangs-up-2", second.McpUrl, "fragile_write");
        try
        {
            using var response = await _http.SendAsync(RawMcp.Post(cluster.Coordinator.McpUrl, """{"jsonrpc":"2.0","id":31,"method":"tools/call","params":{"name":"fragile_write","arguments":{}}}"""), Cancel);

            var message = await RawMcp.ReadMessageAsync(response);
            Assert.Equal(31, message["id"]!.GetValue<int>());
            Assert.True(message["result"]!["isError"]!.GetValue<bool>());
            Assert.Contains("may or may not have run", message["result"]!["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(1, first.Requests + second.Requests);
        }
        finally
        {
            await cluster.UnregisterAsync("hangs-up-1", "hangs-up-2");
        }
    }

    [Fact]
    public async Task A_stream_that_breaks_mid_answer_still_ends_with_a_maybe_run_result()
    {
        await using var node = await FaultyNode.StartAsync(FaultyNode.Fault.BreakMidStream);
        await cluster.RegisterAsync("breaks-stream", node.McpUrl, "fragile_stream");
        try
        {
            using var response = await _http.SendAsync(
                RawMcp.Post(cluster.Coordinator.McpUrl, """{"jsonrpc":"2.0","id":32,"method":"tools/call","params":{"name":"fragile_stream","arguments":{}}}"""),
                HttpCompletionOption.ResponseHeadersRead,
                Cancel);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Cancel));
            var events = new List<JsonNode>();
            while (await reader.ReadLineAsync(Cancel) is { } line)
            {
                if (line.StartsWith("data:", StringComparison.Ordinal))
                {
                    events.Add(JsonNode.Parse(line[5..])!);

                    // The first event has reached the client through the coordinator: now the node fails.
                    node.BreakNow();
                }
            }

            Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
            Assert.Equal(2, events.Count);
            Assert.Equal("notifications/message", events[0]["method"]!.GetValue<string>());
            Assert.Equal(32, events[1]["id"]!.GetValue<int>());
            Assert.True(events[1]["result"]!["isError"]!.GetValue<bool>());
            Assert.Contains("may or may not have run", events[1]["result"]!["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(1, node.Requests);
        }
        finally
        {
            await cluster.UnregisterAsync("breaks-stream");
        }
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("""{"id":"bad-record","mcpUrl":"http://127.0.0.1:1/mcp","status":"ready","tools":null}""")]
    [InlineData("""{"id":"bad-record","mcpUrl":"relative/mcp","status":"ready","tools":[]}""")]
    [InlineData("""{"id":"someone-else","mcpUrl":"http://127.0.0.1:1/mcp","status":"ready","tools":[]}""")]
    [InlineData("""{"id":"bad-record","mcpUrl":"http://127.0.0.1:1/mcp","status":"ready","tools":[null]}""")]
    [InlineData("""{"id":"bad-record","mcpUrl":"http://127.0.0.1:1/mcp","status":"ready","tools":[],"sentAt":"2026-01-01T00:00:00Z","ttlMs":9223372036854775807}""")]
    public async Task A_corrupt_registry_record_is_ignored_not_swept_and_the_coordinator_keeps_routing(string record)
    {
        await using var redis = await Eventually.ConnectAsync(cluster.Store.ConnectionString);
        await redis.SetAsync(ClusterKeys.Heartbeat("bad-record"), record, TimeSpan.FromMinutes(1), Cancel);
        await redis.SetAddAsync(ClusterKeys.NodeSet, "bad-record", Cancel);
        try
        {
            await cluster.WaitForRefreshAfterAsync(DateTimeOffset.UtcNow);

            Assert.DoesNotContain("bad-record", await cluster.NodeIdsAsync(_http));
            Assert.Contains("bad-record", await redis.SetMembersAsync(ClusterKeys.NodeSet, Cancel));
            Assert.Contains("node-a", await cluster.NodeIdsAsync(_http));
            Assert.Equal("still serving", await RawMcp.EchoAsync(_http, cluster.Coordinator.McpUrl));
        }
        finally
        {
            await redis.DeleteAsync(ClusterKeys.Heartbeat("bad-record"), Cancel);
            await redis.SetRemoveAsync(ClusterKeys.NodeSet, ["bad-record"], Cancel);
        }
    }

    [Fact]
    public async Task Health_includes_the_redis_check()
    {
        var body = JsonNode.Parse(await _http.GetStringAsync(new Uri(cluster.Coordinator.BaseUrl, "/health"), Cancel))!;

        Assert.Equal("Healthy", body["checks"]!["redis"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public void The_coordinator_refuses_to_start_without_redis()
    {
        using var host = new ServiceHost<CoordinatorOptions>(new Dictionary<string, string?>());

        var error = Assert.ThrowsAny<Exception>(() => host.Start());

        Assert.Contains("ConnectionStrings:redis is not set", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_and_delete_are_405_because_the_coordinator_is_stateless()
    {
        using var get = await _http.GetAsync(cluster.Coordinator.McpUrl, Cancel);
        using var delete = await _http.DeleteAsync(cluster.Coordinator.McpUrl, Cancel);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, delete.StatusCode);
    }

    private Task<McpClient> ConnectAsync() =>
        OfficialClient.ConnectAsync(cluster.Coordinator.McpUrl);
}
