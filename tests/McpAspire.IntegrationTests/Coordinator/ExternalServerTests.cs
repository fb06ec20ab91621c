using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpAspire.Cluster;
using McpAspire.Cluster.Security;
using McpAspire.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Protocol;
using StackExchange.Redis;

namespace McpAspire.IntegrationTests.Coordinator;

/// <summary>
/// Servers nobody here wrote, behind the coordinator next to a node of ours, on a real store and real sockets: the
/// npm reference server <c>server-everything</c> (prefixed <c>everything_</c>, <c>get-env</c> denied, probed every
/// second) and an SDK server that requires a bearer token and gains a tool while running (probed every five minutes,
/// so only its <c>list_changed</c> can explain a change). Both are listed and called through one endpoint.
/// </summary>
public sealed class ExternalServerTests(ExternalServerTests.Cluster cluster) : IClassFixture<ExternalServerTests.Cluster>, IDisposable
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private readonly HttpClient _http = new();

    public void Dispose() => _http.Dispose();

    public sealed class Cluster : CoordinatorCluster
    {
        public const string UpstreamToken = "upstream-secret-token";

        public static readonly string Key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

        public Cluster() => Keys = new ClusterKeyRing([Convert.FromBase64String(Key)]);

        public EverythingServer Everything { get; private set; } = null!;

        public UpstreamMcpServer Upstream { get; private set; } = null!;

        protected override async Task StartServicesAsync()
        {
            Everything = Own(await EverythingServer.StartAsync());
            Upstream = Own(await UpstreamMcpServer.StartAsync(UpstreamToken));
            Own(TestServices.StartNode(
                services => services.AddMcpServer().WithResources<GuideResources>().WithPrompts<GuidePrompts>(),
                ("ConnectionStrings:redis", Store.ConnectionString), ("Node:Id", "ours"), ("Cluster:Key", Key), ("Node:HeartbeatInterval", "00:00:00.200")));
            Coordinator = Own(TestServices.StartCoordinator(
                Store.ConnectionString,
                ("Coordinator:RegistryRefreshInterval", "00:00:00.200"),
                ("Coordinator:ToolsPageSize", "5"),
                ("Cluster:Key", Key),
                ("Coordinator:Servers:everything:Url", Everything.McpUrl.ToString()),
                ("Coordinator:Servers:everything:Prefix", "everything_"),
                ("Coordinator:Servers:everything:DenyTools:0", "get-env"),
                ("Coordinator:Servers:everything:HealthInterval", "00:00:01"),
                ("Coordinator:Servers:plain:Url", Upstream.McpUrl.ToString()),
                ("Coordinator:Servers:plain:BearerToken", UpstreamToken),
                ("Coordinator:Servers:plain:Headers:X-Team", "search"),
                ("Coordinator:Servers:plain:HealthInterval", "00:05:00")));
            await WaitForNodesAsync("ours", "server.everything", "server.plain");
        }
    }

    private Uri McpUrl => new(cluster.Coordinator.BaseUrl, "/mcp");

    [Fact]
    public async Task The_servers_tools_are_listed_next_to_the_nodes_prefixed_and_filtered_as_configured()
    {
        var names = await ToolNamesAsync();

        Assert.Contains("echo", names);
        Assert.Contains("everything_echo", names);
        Assert.Contains("everything_get-sum", names);
        Assert.Contains("shout", names);
        Assert.DoesNotContain("everything_get-env", names);
        Assert.DoesNotContain("get-env", names);
    }

    [Fact]
    public async Task A_call_to_a_prefixed_tool_runs_on_the_server_under_its_own_name()
    {
        await using var client = await OfficialClient.ConnectAsync(McpUrl);

        var echoed = await client.CallToolAsync("everything_echo", new Dictionary<string, object?> { ["message"] = "through the gateway" }, cancellationToken: Cancel);
        var sum = await client.CallToolAsync("everything_get-sum", new Dictionary<string, object?> { ["a"] = 2, ["b"] = 40 }, cancellationToken: Cancel);

        Assert.NotEqual(true, echoed.IsError);
        Assert.Equal("Echo: through the gateway", Assert.IsType<TextContentBlock>(Assert.Single(echoed.Content)).Text);
        Assert.Contains("42", Assert.IsType<TextContentBlock>(Assert.Single(sum.Content)).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_denied_tool_is_unknown_and_never_reaches_the_server()
    {
        using var response = await _http.SendAsync(RawMcp.Post(McpUrl,
            """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"everything_get-env","arguments":{}}}"""), Cancel);
        var message = await RawMcp.ReadMessageAsync(response);

        Assert.Equal(-32602, RawMcp.ErrorCode(message));
        Assert.Contains("Unknown tool", RawMcp.ErrorMessage(message), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_name_a_node_also_has_is_served_by_the_node_and_the_conflict_is_shown()
    {
        await using var client = await OfficialClient.ConnectAsync(McpUrl);

        var echoed = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "whose?" }, cancellationToken: Cancel);
        var nodes = JsonNode.Parse(await _http.GetStringAsync(new Uri(cluster.Coordinator.BaseUrl, "/api/nodes"), Cancel))!;
        var conflict = nodes["conflicts"]!.AsArray().Single(item => item!["tool"]!.GetValue<string>() == "echo")!;

        Assert.DoesNotContain("upstream:", Assert.IsType<TextContentBlock>(Assert.Single(echoed.Content)).Text, StringComparison.Ordinal);
        Assert.Equal("ours", conflict["servedFrom"]!.GetValue<string>());
        Assert.Contains("server.plain", conflict["otherNodes"]!.AsArray().Select(node => node!.GetValue<string>()));
    }

    [Fact]
    public async Task The_server_gets_its_configured_credentials_and_nothing_of_the_clusters()
    {
        await using var client = await OfficialClient.ConnectAsync(McpUrl);
        var shouted = await client.CallToolAsync("shout", new Dictionary<string, object?> { ["message"] = "quiet" }, cancellationToken: Cancel);

        Assert.Equal("QUIET", Assert.IsType<TextContentBlock>(Assert.Single(shouted.Content)).Text);
        Assert.NotEmpty(cluster.Upstream.Requests);
        Assert.All(cluster.Upstream.Requests, headers =>
        {
            Assert.Equal($"Bearer {Cluster.UpstreamToken}", headers.Authorization.ToString());
            Assert.Equal("search", headers["X-Team"].ToString());
            Assert.False(headers.ContainsKey(ClusterCredentials.HeaderName));
            Assert.False(headers.ContainsKey(CallerAssertion.HeaderName));
        });
    }

    [Fact]
    public async Task A_tool_the_server_adds_is_served_once_it_says_its_list_changed()
    {
        cluster.Upstream.AddTool("late_arrival");

        // The server is probed every five minutes: only its notification can bring the tool in.
        await Eventually.UntilAsync(async () => (await ToolNamesAsync()).Contains("late_arrival"));
        await using var client = await OfficialClient.ConnectAsync(McpUrl);
        var result = await client.CallToolAsync("late_arrival", cancellationToken: Cancel);

        Assert.Equal("late_arrival ran", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
    }

    [Fact]
    public async Task Progress_from_the_server_reaches_the_client_under_its_own_token()
    {
        using var response = await _http.SendAsync(RawMcp.Post(McpUrl,
            """{"jsonrpc":"2.0","id":"p1","method":"tools/call","params":{"name":"everything_trigger-long-running-operation","arguments":{"duration":1,"steps":3},"_meta":{"progressToken":"client-token-9"}}}"""), Cancel);
        var events = await RawMcp.ReadEventsAsync(response);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var progress = events.Where(message => message["method"]?.GetValue<string>() == NotificationMethods.ProgressNotification).ToList();
        Assert.True(progress.Count >= 2, $"expected progress notifications, got {string.Join('\n', events.Select(message => message.ToJsonString()))}");
        Assert.All(progress, message => Assert.Equal("client-token-9", message["params"]!["progressToken"]!.GetValue<string>()));
        Assert.Equal("p1", events[^1]["id"]!.GetValue<string>());
        Assert.NotNull(events[^1]["result"]);
    }

    [Fact]
    public async Task A_killed_server_leaves_the_list_within_its_health_interval_and_comes_back_when_it_returns()
    {
        await using var store = await Eventually.ConnectAsync(cluster.Store.ConnectionString);
        var withdrawn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await store.GetSubscriber().SubscribeAsync(RedisChannel.Literal(ClusterKeys.EventsChannel), (_, message) =>
        {
            if (JsonSerializer.Deserialize<RegistryEvent>(message.ToString(), ClusterJson.Options) == new RegistryEvent(RegistryEvent.Left, "server.everything"))
            {
                withdrawn.TrySetResult();
            }
        });
        try
        {
            await cluster.Everything.KillAsync();

            // The probe that finds it gone (one a second) withdraws its record and says so; a record that merely
            // ran out (its TTL is three intervals) is never announced.
            await withdrawn.Task.WaitAsync(TimeSpan.FromSeconds(30), Cancel);
            await Eventually.UntilAsync(async () => !(await ToolNamesAsync()).Contains("everything_echo"));
            using var call = await _http.SendAsync(RawMcp.Post(McpUrl,
                """{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"everything_echo","arguments":{"message":"anyone?"}}}"""), Cancel);
            var refused = await RawMcp.ReadMessageAsync(call);
            var stillServed = await ToolNamesAsync();
            var nodes = JsonNode.Parse(await _http.GetStringAsync(new Uri(cluster.Coordinator.BaseUrl, "/api/nodes"), Cancel))!;
            var server = nodes["servers"]!.AsArray().Single(item => item!["name"]!.GetValue<string>() == "everything")!;

            Assert.Equal(-32602, RawMcp.ErrorCode(refused));
            Assert.Contains("shout", stillServed);
            Assert.Contains("echo", stillServed);
            Assert.False(server["up"]!.GetValue<bool>());
            Assert.True(server["probedHere"]!.GetValue<bool>());
            Assert.Contains("refused", server["reason"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            await cluster.Everything.StartAgainAsync();
        }

        await Eventually.UntilAsync(async () => (await ToolNamesAsync()).Contains("everything_echo"));
        await using var client = await OfficialClient.ConnectAsync(McpUrl);
        var echoed = await client.CallToolAsync("everything_echo", new Dictionary<string, object?> { ["message"] = "back" }, cancellationToken: Cancel);
        Assert.Equal("Echo: back", Assert.IsType<TextContentBlock>(Assert.Single(echoed.Content)).Text);
    }

    [Fact]
    public async Task A_server_record_this_coordinator_has_not_configured_or_at_another_url_is_rejected()
    {
        var tools = new[] { new Tool { Name = "bait", Description = "Bait." } };
        await CoordinatorCluster.WriteRecordsAsync(cluster.Store.ConnectionString, cluster.Keys,
            CoordinatorCluster.Heartbeat("server.stranger", new Uri("http://127.0.0.1:9/mcp")) with { Server = "stranger" }, tools);
        await CoordinatorCluster.WriteRecordsAsync(cluster.Store.ConnectionString, cluster.Keys,
            CoordinatorCluster.Heartbeat("server.plain-moved", new Uri("http://127.0.0.1:9/mcp")) with { Server = "plain" }, tools);
        try
        {
            var rejected = await Eventually.WaitForAsync(async () =>
            {
                var body = JsonNode.Parse(await _http.GetStringAsync(new Uri(cluster.Coordinator.BaseUrl, "/api/nodes"), Cancel))!;
                var records = body["rejected"]!.AsArray().ToDictionary(item => item!["id"]!.GetValue<string>(), item => item!["reason"]!.GetValue<string>());
                return records.ContainsKey("server.stranger") && records.ContainsKey("server.plain-moved") ? records : null;
            });

            Assert.Contains("does not have in Coordinator:Servers", rejected["server.stranger"], StringComparison.Ordinal);
            Assert.Contains("not 'server.plain'", rejected["server.plain-moved"], StringComparison.Ordinal);
            Assert.DoesNotContain("bait", await ToolNamesAsync());
        }
        finally
        {
            await cluster.UnregisterAsync("server.stranger", "server.plain-moved");
        }
    }

    [Fact]
    public async Task Resources_templates_and_prompts_of_the_nodes_and_the_servers_are_listed_in_pages_through_one_endpoint()
    {
        await using var client = await OfficialClient.ConnectAsync(McpUrl);

        var resources = (await client.ListResourcesAsync(cancellationToken: Cancel)).Select(resource => resource.Uri).ToList();
        var templates = (await client.ListResourceTemplatesAsync(cancellationToken: Cancel)).Select(template => template.UriTemplate).ToList();
        var prompts = (await client.ListPromptsAsync(cancellationToken: Cancel)).Select(prompt => prompt.Name).ToList();

        Assert.Contains(GuideResources.GuideUri, resources);
        Assert.Contains("demo://resource/static/document/architecture.md", resources);
        Assert.True(resources.Count > 5, "the resources span more than one page of 5");
        Assert.Equal(resources.Order(StringComparer.Ordinal), resources);
        Assert.Contains("mcpaspire-test://notes/{id}", templates);
        Assert.Contains("demo://resource/dynamic/text/{resourceId}", templates);
        Assert.Contains("greet", prompts);
        Assert.Contains("everything_simple-prompt", prompts);
        Assert.DoesNotContain("simple-prompt", prompts);
    }

    [Fact]
    public async Task A_resource_is_read_where_it_is_listed_or_where_a_template_takes_its_uri()
    {
        await using var client = await OfficialClient.ConnectAsync(McpUrl);

        var guide = await client.ReadResourceAsync(GuideResources.GuideUri, cancellationToken: Cancel);
        var note = await client.ReadResourceAsync("mcpaspire-test://notes/42", cancellationToken: Cancel);
        var document = await client.ReadResourceAsync("demo://resource/static/document/architecture.md", cancellationToken: Cancel);
        var dynamic = await client.ReadResourceAsync("demo://resource/dynamic/text/7", cancellationToken: Cancel);

        Assert.Equal("The guide, served by a node.", Assert.IsType<TextResourceContents>(Assert.Single(guide.Contents)).Text);
        Assert.Equal("Note 42, served by a node.", Assert.IsType<TextResourceContents>(Assert.Single(note.Contents)).Text);
        Assert.NotEmpty(Assert.IsType<TextResourceContents>(Assert.Single(document.Contents)).Text);
        Assert.StartsWith("Resource 7:", Assert.IsType<TextResourceContents>(Assert.Single(dynamic.Contents)).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_malformed_or_oversized_read_or_prompt_is_refused_and_the_next_is_served()
    {
        using var read = await _http.SendAsync(RawMcp.Post(McpUrl,
            """{"jsonrpc":"2.0","id":5,"method":"resources/read","params":{"uri":"nowhere://at/all"}}"""), Cancel);
        using var prompt = await _http.SendAsync(RawMcp.Post(McpUrl,
            """{"jsonrpc":"2.0","id":6,"method":"prompts/get","params":{"name":"simple-prompt"}}"""), Cancel);
        using var malformed = await _http.SendAsync(RawMcp.Post(McpUrl,
            """{"jsonrpc":"2.0","id":7,"method":"completion/complete","params":{"ref":{"type":"ref/nothing"},"argument":{"name":"a","value":"b"}}}"""), Cancel);
        using var huge = await _http.SendAsync(RawMcp.Post(McpUrl,
            $$$"""{"jsonrpc":"2.0","id":8,"method":"resources/read","params":{"uri":"demo://resource/dynamic/text/{{{new string('7', 500_000)}}}"}}"""), Cancel);
        using var nameless = await _http.SendAsync(RawMcp.Post(McpUrl, """{"jsonrpc":"2.0","id":9,"method":"prompts/get","params":{}}"""), Cancel);

        var readAnswer = await RawMcp.ReadMessageAsync(read);
        Assert.Equal(-32002, RawMcp.ErrorCode(readAnswer));
        Assert.Contains("nowhere://at/all", RawMcp.ErrorMessage(readAnswer), StringComparison.Ordinal);
        Assert.Equal(-32602, RawMcp.ErrorCode(await RawMcp.ReadMessageAsync(prompt)));
        Assert.Equal(-32602, RawMcp.ErrorCode(await RawMcp.ReadMessageAsync(malformed)));
        var hugeAnswer = await RawMcp.ReadMessageAsync(huge);
        Assert.Equal(-32602, RawMcp.ErrorCode(hugeAnswer));
        Assert.Contains("at most 8192 characters", RawMcp.ErrorMessage(hugeAnswer), StringComparison.Ordinal);
        Assert.Equal(-32602, RawMcp.ErrorCode(await RawMcp.ReadMessageAsync(nameless)));
        using var guide = await _http.SendAsync(RawMcp.Post(McpUrl, $$$"""{"jsonrpc":"2.0","id":10,"method":"resources/read","params":{"uri":"{{{GuideResources.GuideUri}}}"}}"""), Cancel);
        Assert.NotNull((await RawMcp.ReadMessageAsync(guide))["result"]);
    }

    [Fact]
    public async Task A_prompt_is_got_and_its_arguments_completed_where_it_is_served_under_the_servers_own_names()
    {
        await using var client = await OfficialClient.ConnectAsync(McpUrl);

        var greet = await client.GetPromptAsync("greet", new Dictionary<string, object?> { ["name"] = "Ada" }, cancellationToken: Cancel);
        var simple = await client.GetPromptAsync("everything_simple-prompt", cancellationToken: Cancel);
        var completed = await client.CompleteAsync(new PromptReference { Name = "everything_completable-prompt" }, "department", "Eng", cancellationToken: Cancel);

        Assert.Contains("Ada", Assert.IsType<TextContentBlock>(Assert.Single(greet.Messages).Content).Text, StringComparison.Ordinal);
        Assert.NotEmpty(simple.Messages);
        Assert.Equal(["Engineering"], completed.Completion.Values);
    }

    private async Task<List<string>> ToolNamesAsync()
    {
        var names = new List<string>();
        string? cursor = null;
        do
        {
            var parameters = cursor is null ? "{}" : $$"""{"cursor":"{{cursor}}"}""";
            using var response = await _http.SendAsync(RawMcp.Post(McpUrl, $$"""{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{{parameters}}}"""), Cancel);
            var result = (await RawMcp.ReadMessageAsync(response))["result"]!;
            names.AddRange(result["tools"]!.AsArray().Select(tool => tool!["name"]!.GetValue<string>()));
            cursor = result["nextCursor"]?.GetValue<string>();
        }
        while (cursor is not null);

        return names;
    }
}
