using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpAspire.Cluster;
using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.Mcp;
using McpAspire.McpCoordinator;
using McpAspire.McpCoordinator.Registry;
using Microsoft.Extensions.DependencyInjection;
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
            // A long break, so a node whose breaker opened stays out for the rest of its test; one tool per
            // tools/list page, so every listing here pages.
            Coordinator = Own(TestServices.StartCoordinator(
                Store.ConnectionString, ("Coordinator:RegistryRefreshInterval", "00:00:00.100"), ("Coordinator:BreakerBreakDuration", "00:01:00"),
                ("Coordinator:ToolsPageSize", "1")));
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
        using var response = await _http.SendAsync(RawMcp.Post(cluster.Coordinator.McpUrl, """{"jsonrpc":"2.0","id":9,"method":"resources/subscribe","params":{"uri":"docs://guide"}}"""), Cancel);

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
        await using var registered = await cluster.PublishAsync("ghost", new Uri($"http://127.0.0.1:{PortAllocator.RefusingPort}/mcp"), NodeStatus.Ready, [RealEcho]);
        await EveryEchoSucceedsAsync(30);
    }

    [Fact]
    public async Task A_call_that_fails_after_it_was_sent_is_reported_as_maybe_run_and_never_retried()
    {
        await using var first = await FaultyNode.StartAsync(FaultyNode.Fault.HangUpBeforeAnswering);
        await using var second = await FaultyNode.StartAsync(FaultyNode.Fault.HangUpBeforeAnswering);
        await using var registered1 = await cluster.RegisterAsync("hangs-up-1", first.McpUrl, "fragile_write");
        await using var registered2 = await cluster.RegisterAsync("hangs-up-2", second.McpUrl, "fragile_write");
        using var response = await _http.SendAsync(RawMcp.Post(cluster.Coordinator.McpUrl, """{"jsonrpc":"2.0","id":31,"method":"tools/call","params":{"name":"fragile_write","arguments":{}}}"""), Cancel);

        var message = await RawMcp.ReadMessageAsync(response);
        Assert.Equal(31, message["id"]!.GetValue<int>());
        Assert.True(message["result"]!["isError"]!.GetValue<bool>());
        Assert.Contains("may or may not have run", message["result"]!["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, first.Requests + second.Requests);
    }

    [Fact]
    public async Task A_call_whose_reused_connection_fails_after_sending_is_not_sent_again()
    {
        // Nothing between the gateway and the node may re-send a call that reached it: no retrying handler,
        // and no re-send by the HTTP stack on a pooled connection that failed.
        await using var node = await FaultyNode.StartAsync(FaultyNode.Fault.HangUpAfterFirstAnswer);
        await using var registered = await cluster.RegisterAsync("hangs-up-later", node.McpUrl, "fragile_once");
        const string Call = """{"jsonrpc":"2.0","id":35,"method":"tools/call","params":{"name":"fragile_once","arguments":{}}}""";
        using var first = await _http.SendAsync(RawMcp.Post(cluster.Coordinator.McpUrl, Call), Cancel);
        using var second = await _http.SendAsync(RawMcp.Post(cluster.Coordinator.McpUrl, Call), Cancel);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var message = await RawMcp.ReadMessageAsync(second);
        Assert.Contains("may or may not have run", message["result"]!["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(2, node.Requests);
    }

    [Fact]
    public async Task The_event_stream_starts_with_a_snapshot_then_reports_joins_and_leaves()
    {
        using var response = await _http.GetAsync(new Uri(cluster.Coordinator.BaseUrl, "/api/events"), HttpCompletionOption.ResponseHeadersRead, Cancel);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Cancel));
        var snapshot = await RegistryEvents.NextAsync(reader, "snapshot");

        await cluster.RegisterAsync("announced", new Uri($"http://127.0.0.1:{PortAllocator.RefusingPort}/mcp"), "announced_tool");
        var joined = await RegistryEvents.NextAsync(reader, "join");
        await cluster.UnregisterAsync("announced");
        var left = await RegistryEvents.NextAsync(reader, "leave");

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("node-a", snapshot["nodes"]!.AsArray().Select(node => node!["id"]!.GetValue<string>()));
        Assert.Equal("announced", joined["nodeId"]!.GetValue<string>());
        Assert.Equal("announced", left["nodeId"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_tool_defined_with_another_schema_is_a_conflict_in_the_api_and_its_node_gets_no_calls()
    {
        await using var outdated = await FaultyNode.StartAsync(FaultyNode.Fault.HangUpBeforeAnswering);
        var otherEcho = new Tool { Name = "echo", InputSchema = JsonDocument.Parse("""{"type":"object","properties":{"text":{"type":"string"}}}""").RootElement };
        await using var registered = await cluster.PublishAsync("outdated", outdated.McpUrl, NodeStatus.Ready, [otherEcho]);
        await EveryEchoSucceedsAsync(20);

        var conflict = Assert.Single(JsonNode.Parse(await _http.GetStringAsync(new Uri(cluster.Coordinator.BaseUrl, "/api/nodes"), Cancel))!["conflicts"]!.AsArray())!;
        Assert.Equal("echo", conflict["tool"]!.GetValue<string>());
        Assert.Equal(["outdated"], conflict["otherNodes"]!.AsArray().Select(node => node!.GetValue<string>()));
        Assert.Equal(0, outdated.Requests);
    }

    [Fact]
    public async Task Tools_come_one_page_at_a_time_and_the_cursor_leads_to_the_next()
    {
        var first = await ListToolsAsync("{}");
        var second = await ListToolsAsync($$"""{"cursor":"{{first["nextCursor"]!.GetValue<string>()}}"}""");

        Assert.Equal("echo", Assert.Single(first["tools"]!.AsArray())!["name"]!.GetValue<string>());
        Assert.Equal("get_capabilities", Assert.Single(second["tools"]!.AsArray())!["name"]!.GetValue<string>());
        Assert.Null(second["nextCursor"]);
    }

    [Theory]
    [InlineData("\"not a cursor\"")]
    [InlineData("\"ZWNobw\"")]
    [InlineData("5")]
    [InlineData("null")]
    public async Task A_cursor_the_coordinator_did_not_give_out_is_invalid_params(string cursor)
    {
        using var response = await _http.SendAsync(
            RawMcp.Post(cluster.Coordinator.McpUrl, $$$"""{"jsonrpc":"2.0","id":36,"method":"tools/list","params":{"cursor":{{{cursor}}}}}"""), Cancel);

        var message = await RawMcp.ReadMessageAsync(response);
        Assert.Equal(-32602, RawMcp.ErrorCode(message));
        Assert.Contains("'cursor' is not one this server gave out", RawMcp.ErrorMessage(message), StringComparison.Ordinal);
        Assert.Equal("still serving", await RawMcp.EchoAsync(_http, cluster.Coordinator.McpUrl));
    }

    private async Task<JsonNode> ListToolsAsync(string parameters)
    {
        using var response = await _http.SendAsync(
            RawMcp.Post(cluster.Coordinator.McpUrl, $$"""{"jsonrpc":"2.0","id":37,"method":"tools/list","params":{{parameters}}}"""), Cancel);
        return (await RawMcp.ReadMessageAsync(response))["result"]!;
    }

    [Fact]
    public async Task Annotations_that_differ_between_nodes_are_a_conflict_so_no_call_is_retried_on_a_node_that_calls_the_tool_safe()
    {
        // Same schemas; only the annotations differ. The definition served (from the lower id) does not say read-only,
        // and only the node that shares it gets calls: none is ever retried because another node says it may be.
        await using var strict = await FaultyNode.StartAsync(FaultyNode.Fault.HangUpBeforeAnswering);
        await using var lenient = await FaultyNode.StartAsync(FaultyNode.Fault.HangUpBeforeAnswering);
        await using var registered1 = await cluster.PublishAsync("a-strict", strict.McpUrl, NodeStatus.Ready, [new Tool { Name = "fragile_mixed" }]);
        await using var registered2 = await cluster.PublishAsync("b-lenient", lenient.McpUrl, NodeStatus.Ready, [ReadOnlyTool("fragile_mixed")]);
        for (var call = 1; call <= 3; call++)
        {
            using var response = await _http.SendAsync(
                RawMcp.Post(cluster.Coordinator.McpUrl, """{"jsonrpc":"2.0","id":39,"method":"tools/call","params":{"name":"fragile_mixed","arguments":{}}}"""), Cancel);

            var message = await RawMcp.ReadMessageAsync(response);
            Assert.Contains("may or may not have run", message["result"]!["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal((call, 0), (strict.Requests, lenient.Requests));
        }

        var conflict = JsonNode.Parse(await _http.GetStringAsync(new Uri(cluster.Coordinator.BaseUrl, "/api/nodes"), Cancel))!["conflicts"]!.AsArray()
            .Single(item => item!["tool"]!.GetValue<string>() == "fragile_mixed")!;
        Assert.Equal("a-strict", conflict["servedFrom"]!.GetValue<string>());
        Assert.Equal("b-lenient", conflict["otherNodes"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task An_overloaded_node_sheds_calls_to_the_others_and_none_fails()
    {
        await using var busy = await FaultyNode.StartAsync(FaultyNode.Fault.Overloaded);
        await using var registered = await cluster.PublishAsync("busy", busy.McpUrl, NodeStatus.Ready, [RealEcho]);
        await EveryEchoSucceedsAsync(30);
        Assert.True(busy.Requests > 0, "the overloaded node was never tried");
        Assert.Equal("closed", await BreakerOfAsync("busy"));
    }

    [Fact]
    public async Task A_node_whose_heartbeat_ran_out_since_the_last_registry_read_gets_no_calls()
    {
        // This coordinator reads the registry at start and not again for ten minutes; its clock then jumps past
        // every heartbeat's time to live.
        var clock = new ShiftedClock();
        await using var stale = TestServices.StartCoordinator(
            cluster.Store.ConnectionString, services => services.AddSingleton<TimeProvider>(clock), ("Coordinator:RegistryRefreshInterval", "00:10:00"));
        await CoordinatorCluster.WaitForNodesAsync(stale, "node-a", "node-b");
        const string Echo = """{"jsonrpc":"2.0","id":34,"method":"tools/call","params":{"name":"echo","arguments":{"message":"in time"}}}""";
        using var before = await _http.SendAsync(RawMcp.Post(stale.McpUrl, Echo), Cancel);
        var answered = await RawMcp.ReadMessageAsync(before);

        clock.Shift = TimeSpan.FromHours(1);
        using var after = await _http.SendAsync(RawMcp.Post(stale.McpUrl, Echo), Cancel);

        Assert.Equal("in time", answered["result"]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(
            "Tool 'echo' is unavailable: all 2 node(s) offering it are draining or unavailable, or their circuit breakers are open. Retry later.",
            RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(after)));
    }

    [Fact]
    public async Task When_every_node_offering_a_tool_refuses_it_the_client_gets_503_with_retry_after()
    {
        await using var first = await FaultyNode.StartAsync(FaultyNode.Fault.Overloaded);
        await using var second = await FaultyNode.StartAsync(FaultyNode.Fault.Overloaded);
        await using var registered1 = await cluster.RegisterAsync("crowded-1", first.McpUrl, "crowded");
        await using var registered2 = await cluster.RegisterAsync("crowded-2", second.McpUrl, "crowded");
        using var response = await _http.SendAsync(RawMcp.Post(cluster.Coordinator.McpUrl, """{"jsonrpc":"2.0","id":33,"method":"tools/call","params":{"name":"crowded","arguments":{}}}"""), Cancel);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(2), response.Headers.RetryAfter!.Delta);
        var message = RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(response))!;
        Assert.StartsWith("Server overloaded: every node offering 'crowded'", message, StringComparison.Ordinal);
        Assert.Contains("node crowded-1: Server overloaded", message, StringComparison.Ordinal);
        Assert.Contains("node crowded-2: Server overloaded", message, StringComparison.Ordinal);
        Assert.Equal((1, 1), (first.Requests, second.Requests));
    }

    [Fact]
    public async Task A_read_only_call_that_fails_before_answering_is_retried_on_another_node()
    {
        await using var flaky = await FaultyNode.StartAsync(FaultyNode.Fault.HangUpBeforeAnswering);
        await using var registered = await cluster.PublishAsync("flaky", flaky.McpUrl, NodeStatus.Ready, [RealEcho]);
        await EveryEchoSucceedsAsync(30);
        Assert.True(flaky.Requests > 0, "the failing node was never tried");
    }

    [Fact]
    public async Task A_failing_nodes_breaker_opens_shows_in_the_api_and_keeps_calls_away()
    {
        await using var sick = await FaultyNode.StartAsync(FaultyNode.Fault.HangUpBeforeAnswering);
        await using var registered = await cluster.PublishAsync("sick", sick.McpUrl, NodeStatus.Ready, [RealEcho]);
        await UntilBreakerOpensWhileEchoServesAsync("sick");
        var reachedWhileClosed = sick.Requests;

        await EveryEchoSucceedsAsync(30);

        Assert.Equal(reachedWhileClosed, sick.Requests);
        Assert.Equal("closed", await BreakerOfAsync("node-a"));
    }

    [Fact]
    public async Task After_the_break_a_probe_not_a_long_call_decides_and_closes_the_breaker_of_a_node_that_is_up_again()
    {
        // A coordinator of its own, with a short break; the shared one keeps a long one.
        await using var coordinator = TestServices.StartCoordinator(
            cluster.Store.ConnectionString, ("Coordinator:RegistryRefreshInterval", "00:00:00.100"), ("Coordinator:BreakerBreakDuration", "00:00:00.500"),
            ("Coordinator:BreakerMinimumThroughput", "2"));
        await cluster.RegisterAsync("revives", new Uri($"http://127.0.0.1:{PortAllocator.RefusingPort}/mcp"), "revive_tool");
        await using var revived = await FaultyNode.StartAsync(FaultyNode.Fault.SlowCalls);
        var calls = new List<Task<HttpResponseMessage>>();
        try
        {
            await CoordinatorCluster.WaitForNodesAsync(coordinator, "revives");
            const string Call = """{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"revive_tool","arguments":{}}}""";
            await Eventually.UntilAsync(async () =>
            {
                using var failed = await _http.SendAsync(RawMcp.Post(coordinator.McpUrl, Call), Cancel);
                return await BreakerOfAsync(coordinator, "revives") == "open";
            });

            // The node comes back, at a new address, with calls that take long. Were a call the breaker's trial, the
            // breaker would stay half-open while it runs; the probe is answered at once.
            await cluster.RegisterAsync("revives", revived.McpUrl, "revive_tool");
            await Eventually.UntilAsync(async () =>
            {
                calls.Add(_http.SendAsync(RawMcp.Post(coordinator.McpUrl, Call), Cancel));
                return await BreakerOfAsync(coordinator, "revives") == "closed";
            });
            await Eventually.UntilAsync(() => Task.FromResult(revived.Requests >= 2));
        }
        finally
        {
            revived.BreakNow();
            await cluster.UnregisterAsync("revives");
        }

        // Every call got an answer: refused while the breaker was open, the node's own once it had closed.
        var answers = await Task.WhenAll(calls);
        Assert.All(answers, answer => Assert.Equal(HttpStatusCode.OK, answer.StatusCode));
        var messages = await Task.WhenAll(answers.Select(RawMcp.ReadMessageAsync));
        Assert.Contains(messages, message => message["result"] is not null);
        foreach (var answer in answers)
        {
            answer.Dispose();
        }
    }

    [Fact]
    public async Task Calls_past_the_connection_limit_wait_for_a_connection_to_the_node()
    {
        await using var coordinator = TestServices.StartCoordinator(
            cluster.Store.ConnectionString, ("Coordinator:RegistryRefreshInterval", "00:00:00.100"), ("Coordinator:MaxConnectionsPerNode", "1"));
        await using var slow = await FaultyNode.StartAsync(FaultyNode.Fault.SlowCalls);
        await cluster.RegisterAsync("one-connection", slow.McpUrl, "slow_tool");
        try
        {
            await CoordinatorCluster.WaitForNodesAsync(coordinator, "one-connection");
            const string Call = """{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"slow_tool","arguments":{}}}""";
            var first = _http.SendAsync(RawMcp.Post(coordinator.McpUrl, Call), Cancel);
            var second = _http.SendAsync(RawMcp.Post(coordinator.McpUrl, Call), Cancel);
            await Eventually.UntilAsync(() => Task.FromResult(slow.Requests == 1));

            // The first call holds the one connection; the second waits in the coordinator, not on the node.
            await Task.Delay(300, Cancel);
            Assert.Equal(1, slow.Requests);
            Assert.False(second.IsCompleted);
            slow.BreakNow();
            using var firstAnswer = await first;
            using var secondAnswer = await second;

            Assert.Equal(HttpStatusCode.OK, firstAnswer.StatusCode);
            Assert.Equal(HttpStatusCode.OK, secondAnswer.StatusCode);
            Assert.Equal(2, slow.Requests);
        }
        finally
        {
            slow.BreakNow();
            await cluster.UnregisterAsync("one-connection");
        }
    }

    [Fact]
    public async Task A_node_that_left_and_comes_back_starts_with_a_closed_breaker_and_no_calls_counted()
    {
        await using var sick = await FaultyNode.StartAsync(FaultyNode.Fault.HangUpBeforeAnswering);
        await using var registered = await cluster.PublishAsync("returning", sick.McpUrl, NodeStatus.Ready, [RealEcho]);
        await UntilBreakerOpensWhileEchoServesAsync("returning");
        Assert.True(await NodeFieldAsync<long>("returning", "callsRouted") > 0);

        // The coordinator forgets what it kept for a node that left, so it holds only live nodes' state.
        await cluster.UnregisterAsync("returning");
        await cluster.PublishAsync("returning", sick.McpUrl, NodeStatus.Ready, [RealEcho]);

        Assert.Equal("closed", await BreakerOfAsync("returning"));
        Assert.Equal(0, await NodeFieldAsync<long>("returning", "callsRouted"));
    }

    /// <summary>
    /// Posts <paramref name="call"/> to the coordinator and reads the answer's events to its end. <paramref name="received"/>
    /// runs after each event with the number so far.
    /// </summary>
    private async Task<(string? MediaType, List<JsonNode> Events)> CallReadingEventsAsync(string call, Action<int> received)
    {
        using var response = await _http.SendAsync(RawMcp.Post(cluster.Coordinator.McpUrl, call), HttpCompletionOption.ResponseHeadersRead, Cancel);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Cancel));
        var events = new List<JsonNode>();
        while (await reader.ReadLineAsync(Cancel) is { } line)
        {
            if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                events.Add(JsonNode.Parse(line[5..])!);
                received(events.Count);
            }
        }

        return (response.Content.Headers.ContentType?.MediaType, events);
    }

    [Fact]
    public async Task A_2026_call_is_routed_on_Mcp_Name_and_its_body_goes_to_the_node_unparsed()
    {
        await using var node = await FaultyNode.StartAsync(FaultyNode.Fault.HangUpAfterFirstAnswer);
        await using var registered = await cluster.RegisterAsync("header-routed", node.McpUrl, "header_routed");
        // Not JSON at all: the coordinator reads only the headers, so the node gets the body (and answers).
        using var response = await _http.SendAsync(Per2026("header_routed", "this is not JSON"), Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull((await RawMcp.ReadMessageAsync(response))["result"]);
        Assert.Equal(1, node.Requests);
        Assert.Equal("this is not JSON", Encoding.UTF8.GetString(node.LastBody));
    }

    [Fact]
    public async Task A_2026_call_through_the_header_route_reaches_a_real_node_which_checks_the_body()
    {
        using var call = await _http.SendAsync(Per2026("echo", Per2026Call("echo", "routed on the header")), Cancel);
        using var encoded = await _http.SendAsync(Per2026("=?base64?" + Convert.ToBase64String(Encoding.UTF8.GetBytes("echo")) + "?=", Per2026Call("echo", "encoded name")), Cancel);
        using var mismatch = await _http.SendAsync(Per2026("echo", Per2026Call("get_capabilities", null)), Cancel);

        Assert.Equal("routed on the header", (await RawMcp.ReadMessageAsync(call))["result"]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("encoded name", (await RawMcp.ReadMessageAsync(encoded))["result"]!["content"]![0]!["text"]!.GetValue<string>());

        // The node refuses a body that asks for another tool than the header names: nothing runs.
        Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);
        var refused = await RawMcp.ReadMessageAsync(mismatch);
        Assert.Equal(McpErrorCodes.HeaderMismatch, RawMcp.ErrorCode(refused));
        Assert.Contains("does not match body value 'get_capabilities'", RawMcp.ErrorMessage(refused), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_2026_call_the_coordinator_answers_itself_has_its_body_checked_first()
    {
        // No node offers the tool, so the coordinator answers, and needs the request's id: it parses the body.
        using var unknown = await _http.SendAsync(Per2026("nobody_has_this", Per2026Call("nobody_has_this", null)), Cancel);
        using var malformed = await _http.SendAsync(Per2026("nobody_has_this", "{\"jsonrpc\":\"2.0\",\"id\":"), Cancel);
        using var disagreeing = await _http.SendAsync(Per2026("nobody_has_this", Per2026Call("echo", "hi")), Cancel);

        var answer = await RawMcp.ReadMessageAsync(unknown);
        Assert.Equal(HttpStatusCode.OK, unknown.StatusCode);
        Assert.Equal(12, answer["id"]!.GetValue<int>());
        Assert.Equal(McpErrorCodes.InvalidParams, RawMcp.ErrorCode(answer));
        Assert.Contains("Unknown tool: 'nobody_has_this'", RawMcp.ErrorMessage(answer), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(McpErrorCodes.ParseError, RawMcp.ErrorCode(await RawMcp.ReadMessageAsync(malformed)));
        Assert.Equal(HttpStatusCode.BadRequest, disagreeing.StatusCode);
        Assert.Equal(McpErrorCodes.HeaderMismatch, RawMcp.ErrorCode(await RawMcp.ReadMessageAsync(disagreeing)));
        Assert.Equal("still serving", await RawMcp.EchoAsync(_http, cluster.Coordinator.McpUrl));
    }

    [Theory]
    [InlineData("empty", 400, -32700, "Parse error")]
    [InlineData("truncated", 400, -32700, "not valid JSON")]
    [InlineData("invalid_utf8", 400, -32700, "not valid UTF-8")]
    [InlineData("nested_10000_deep", 400, -32700, "deeper than 64 levels")]
    [InlineData("batch", 400, -32600, "batches are not supported")]
    [InlineData("params_member_twice", 200, -32602, "params has a member given more than once")]
    [InlineData("two_mib", 413, -32600, "exceeds the limit of 1048576 bytes")]
    public async Task A_hostile_body_routed_on_Mcp_Name_gets_a_clear_error_and_the_coordinator_serves_on(string variant, int status, int code, string fragment)
    {
        var valid = Per2026Call("echo", "hi");
        byte[] body = variant switch
        {
            "empty" => [],
            "truncated" => Encoding.UTF8.GetBytes(valid[..(valid.Length / 2)]),
            "invalid_utf8" => [.. Encoding.UTF8.GetBytes(valid[..^4]), 0xC3, 0x28, 0xFF, .. "\"}}}"u8],
            "nested_10000_deep" => Encoding.UTF8.GetBytes(valid.Replace("\"hi\"", new string('[', 10_000) + new string(']', 10_000), StringComparison.Ordinal)),
            "batch" => Encoding.UTF8.GetBytes("[" + valid + "]"),
            "params_member_twice" => Encoding.UTF8.GetBytes(valid.Replace("\"name\":\"echo\"", "\"name\":\"echo\",\"name\":\"echo\"", StringComparison.Ordinal)),
            _ => Encoding.UTF8.GetBytes(Per2026Call("echo", new string('x', 2 * 1024 * 1024))),
        };
        using var response = await _http.SendAsync(Per2026("echo", body), Cancel);

        Assert.Equal(status, (int)response.StatusCode);
        var message = await RawMcp.ReadMessageAsync(response);
        Assert.Equal(code, RawMcp.ErrorCode(message));
        Assert.Contains(fragment, RawMcp.ErrorMessage(message), StringComparison.Ordinal);
        Assert.Equal("still serving", await RawMcp.EchoAsync(_http, cluster.Coordinator.McpUrl));
    }

    /// <summary>A 2026-07-28 <c>tools/call</c> POST to the coordinator naming <paramref name="toolHeader"/> in <c>Mcp-Name</c>, with <paramref name="body"/> as it is.</summary>
    private HttpRequestMessage Per2026(string toolHeader, string body) => Per2026(toolHeader, Encoding.UTF8.GetBytes(body));

    /// <summary>As <see cref="Per2026(string, string)"/>, with exactly these bytes as the body.</summary>
    private HttpRequestMessage Per2026(string toolHeader, byte[] body)
    {
        var request = RawMcp.Post(cluster.Coordinator.McpUrl, body);
        request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2026-07-28");
        request.Headers.TryAddWithoutValidation("Mcp-Method", "tools/call");
        request.Headers.TryAddWithoutValidation("Mcp-Name", toolHeader);
        return request;
    }

    /// <summary>A valid 2026-07-28 <c>tools/call</c> body (id 12), with a message argument when one is given.</summary>
    private static string Per2026Call(string tool, string? message) => new JsonObject
    {
        ["jsonrpc"] = "2.0",
        ["id"] = 12,
        ["method"] = "tools/call",
        ["params"] = new JsonObject
        {
            ["name"] = tool,
            ["arguments"] = message is null ? new JsonObject() : new JsonObject { ["message"] = message },
            ["_meta"] = new JsonObject { ["io.modelcontextprotocol/protocolVersion"] = "2026-07-28", ["io.modelcontextprotocol/clientCapabilities"] = new JsonObject() },
        },
    }.ToJsonString();

    /// <summary>Calls echo through the coordinator <paramref name="times"/> times; every call must succeed.</summary>
    private async Task EveryEchoSucceedsAsync(int times)
    {
        for (var i = 0; i < times; i++)
        {
            Assert.Equal("still serving", await RawMcp.EchoAsync(_http, cluster.Coordinator.McpUrl));
        }
    }

    /// <summary>
    /// The real nodes' echo (read-only and idempotent), for stand-in nodes that must take its calls: a definition
    /// with another schema would be a conflict, and the coordinator would send it nothing.
    /// </summary>
    private Tool RealEcho => cluster.Coordinator.Services.GetRequiredService<NodeRegistry>().Current.Tools.Single(tool => tool.Name == "echo");

    private static Tool ReadOnlyTool(string name) => new() { Name = name, Annotations = new ToolAnnotations { ReadOnlyHint = true } };

    private Task<string> BreakerOfAsync(string nodeId) => BreakerOfAsync(cluster.Coordinator, nodeId);

    /// <summary>Calls echo through the coordinator, every call succeeding, until <paramref name="nodeId"/>'s breaker is open.</summary>
    private Task UntilBreakerOpensWhileEchoServesAsync(string nodeId) => Eventually.UntilAsync(async () =>
    {
        Assert.Equal("still serving", await RawMcp.EchoAsync(_http, cluster.Coordinator.McpUrl));
        return await BreakerOfAsync(nodeId) == "open";
    });

    private Task<string> BreakerOfAsync(ServiceHost<CoordinatorOptions> coordinator, string nodeId) => NodeFieldAsync<string>(coordinator, nodeId, "breaker");

    private Task<T> NodeFieldAsync<T>(string nodeId, string field) => NodeFieldAsync<T>(cluster.Coordinator, nodeId, field);

    /// <summary>A field of the node's entry in <paramref name="coordinator"/>'s <c>/api/nodes</c>.</summary>
    private async Task<T> NodeFieldAsync<T>(ServiceHost<CoordinatorOptions> coordinator, string nodeId, string field)
    {
        var body = JsonNode.Parse(await _http.GetStringAsync(new Uri(coordinator.BaseUrl, "/api/nodes"), Cancel))!;
        return body["nodes"]!.AsArray().Single(node => node!["id"]!.GetValue<string>() == nodeId)![field]!.GetValue<T>();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_stream_that_breaks_mid_answer_ends_with_a_maybe_run_result_and_is_not_retried(bool readOnly)
    {
        // Even a read-only call is not retried once part of its answer has reached the client.
        await using var node = await FaultyNode.StartAsync(FaultyNode.Fault.BreakMidStream);
        await using var spare = await FaultyNode.StartAsync(FaultyNode.Fault.BreakMidStream);
        var tool = readOnly ? ReadOnlyTool("fragile_stream") : new Tool { Name = "fragile_stream" };
        await using var registered1 = await cluster.PublishAsync("breaks-stream-1", node.McpUrl, NodeStatus.Ready, [tool]);
        await using var registered2 = await cluster.PublishAsync("breaks-stream-2", spare.McpUrl, NodeStatus.Ready, [tool]);
        var (mediaType, events) = await CallReadingEventsAsync("""{"jsonrpc":"2.0","id":32,"method":"tools/call","params":{"name":"fragile_stream","arguments":{}}}""", _ =>
        {
            // The first event has reached the client through the coordinator: now the node fails.
            node.BreakNow();
            spare.BreakNow();
        });

        Assert.Equal("text/event-stream", mediaType);
        Assert.Equal(2, events.Count);
        Assert.Equal("notifications/message", events[0]["method"]!.GetValue<string>());
        Assert.Equal(32, events[1]["id"]!.GetValue<int>());
        Assert.True(events[1]["result"]!["isError"]!.GetValue<bool>());
        Assert.Contains("may or may not have run", events[1]["result"]!["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, node.Requests + spare.Requests);
    }

    [Fact]
    public async Task A_whole_answer_cut_short_reaches_the_client_as_a_clean_maybe_run_result()
    {
        // The node declared its answer's length: the coordinator holds such an answer until it is complete,
        // so a cut leaves the client's response untouched and the call gets a proper answer.
        await using var node = await FaultyNode.StartAsync(FaultyNode.Fault.ShortAnswer);
        await using var registered = await cluster.RegisterAsync("cuts-short", node.McpUrl, "fragile_short");
        using var response = await _http.SendAsync(
            RawMcp.Post(cluster.Coordinator.McpUrl, """{"jsonrpc":"2.0","id":39,"method":"tools/call","params":{"name":"fragile_short","arguments":{}}}"""), Cancel);

        // A fresh JSON answer, with none of the node's partial event in front of it.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        var message = await RawMcp.ReadMessageAsync(response);
        Assert.Equal(39, message["id"]!.GetValue<int>());
        Assert.True(message["result"]!["isError"]!.GetValue<bool>());
        Assert.Contains("may or may not have run", message["result"]!["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, node.Requests);
    }

    [Fact]
    public async Task A_read_only_call_whose_whole_answer_is_cut_short_is_tried_on_another_node()
    {
        await using var first = await FaultyNode.StartAsync(FaultyNode.Fault.ShortAnswer);
        await using var second = await FaultyNode.StartAsync(FaultyNode.Fault.ShortAnswer);
        await using var registered1 = await cluster.PublishAsync("cuts-short-1", first.McpUrl, NodeStatus.Ready, [ReadOnlyTool("lookup_short")]);
        await using var registered2 = await cluster.PublishAsync("cuts-short-2", second.McpUrl, NodeStatus.Ready, [ReadOnlyTool("lookup_short")]);
        using var response = await _http.SendAsync(
            RawMcp.Post(cluster.Coordinator.McpUrl, """{"jsonrpc":"2.0","id":40,"method":"tools/call","params":{"name":"lookup_short","arguments":{}}}"""), Cancel);

        // Nothing of the first answer reached the client, so the second node got the call too.
        var message = await RawMcp.ReadMessageAsync(response);
        Assert.Equal(McpErrorCodes.ServerError, message["error"]!["code"]!.GetValue<int>());
        Assert.Contains("2 node(s) tried and none completed it", message["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, first.Requests);
        Assert.Equal(1, second.Requests);
    }

    [Fact]
    public async Task A_stream_that_breaks_after_its_answer_gets_no_second_answer()
    {
        await using var node = await FaultyNode.StartAsync(FaultyNode.Fault.BreakAfterAnswer);
        await using var registered = await cluster.PublishAsync("breaks-after", node.McpUrl, NodeStatus.Ready, [ReadOnlyTool("answered_stream")]);
        var (_, events) = await CallReadingEventsAsync("""{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"answered_stream","arguments":{}}}""", received =>
        {
            if (received == 2)
            {
                // The answer has reached the client: now the node's connection breaks.
                node.BreakNow();
            }
        });

        // The node's own answer is the only one: a "may have run" answer after it would be a second response.
        Assert.Equal(2, events.Count);
        Assert.Equal("done", events[1]["result"]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(1, node.Requests);
    }

    [Fact]
    public async Task A_stream_that_breaks_inside_an_event_still_ends_with_a_whole_maybe_run_event()
    {
        await using var node = await FaultyNode.StartAsync(FaultyNode.Fault.BreakInsideEvent);
        await using var registered = await cluster.RegisterAsync("breaks-inside", node.McpUrl, "fragile_event");
        using var response = await _http.SendAsync(
            RawMcp.Post(cluster.Coordinator.McpUrl, """{"jsonrpc":"2.0","id":38,"method":"tools/call","params":{"name":"fragile_event","arguments":{}}}"""),
            HttpCompletionOption.ResponseHeadersRead,
            Cancel);
        await using var body = await response.Content.ReadAsStreamAsync(Cancel);
        var received = new List<byte>();
        var buffer = new byte[256];
        while (!Encoding.UTF8.GetString([.. received]).Contains("notifications/mes", StringComparison.Ordinal))
        {
            var read = await body.ReadAsync(buffer, Cancel);
            Assert.True(read > 0, "the stream ended before the half event arrived");
            received.AddRange(buffer.AsSpan(0, read));
        }

        // The half event has reached the client through the coordinator: now the node fails.
        node.BreakNow();
        using var rest = new StreamReader(body);
        var text = Encoding.UTF8.GetString([.. received]) + await rest.ReadToEndAsync(Cancel);

        // As an SSE client reads it: events end at a blank line, and an event's data lines join with newlines.
        var lastEvent = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Last();
        var last = JsonNode.Parse(string.Join('\n', lastEvent.Split('\n').Where(line => line.StartsWith("data: ", StringComparison.Ordinal)).Select(line => line["data: ".Length..])))!;
        Assert.Equal(38, last["id"]!.GetValue<int>());
        Assert.Contains("may or may not have run", last["result"]!["content"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("""{"id":"bad-record","mcpUrl":"http://127.0.0.1:1/mcp","status":"ready","tools":null}""")]
    [InlineData("""{"id":"bad-record","mcpUrl":"relative/mcp","status":"ready","tools":[]}""")]
    [InlineData("""{"id":"someone-else","mcpUrl":"http://127.0.0.1:1/mcp","status":"ready","tools":[]}""")]
    [InlineData("""{"id":"bad-record","mcpUrl":"http://127.0.0.1:1/mcp","status":"ready","tools":[null]}""")]
    [InlineData("""{"id":"bad-record","mcpUrl":"http://127.0.0.1:1/mcp","status":"ready","tools":[],"sentAt":"2026-01-01T00:00:00Z","ttlMs":9223372036854775807}""")]
    [InlineData("""{"id":"bad-record","mcpUrl":"http://127.0.0.1:1/mcp","status":"ready","tools":[],"packs":[],"sentAt":"9999-12-31T23:59:59Z","ttlMs":60000}""")]
    [InlineData("""{"id":"bad-record","mcpUrl":"http://127.0.0.1:1/mcp","status":"ready","tools":[{"name":"x","inputSchema":[1,2]}],"packs":[],"sentAt":"2026-01-01T00:00:00Z","ttlMs":60000}""")]
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
