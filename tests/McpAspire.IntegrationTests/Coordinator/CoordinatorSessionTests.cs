using System.Net;
using System.Security.Cryptography;
using McpAspire.Cluster;
using McpAspire.Cluster.Security;
using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.McpCoordinator;
using McpAspire.McpCoordinator.Sessions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpAspire.IntegrationTests.Coordinator;

/// <summary>
/// A stateful coordinator (<c>Mcp:Stateless=false</c>): two replicas sharing one session key, in front of two
/// stateful nodes with the conformance pack. It keeps the stateful endpoint contract, and each session is
/// pinned to a node session through a sealed id that either replica routes.
/// </summary>
public sealed class CoordinatorSessionTests(CoordinatorSessionTests.Cluster cluster) : StatefulEndpointContract, IClassFixture<CoordinatorSessionTests.Cluster>
{
    protected override Uri McpUrl => cluster.Coordinator.McpUrl;

    public sealed class Cluster : CoordinatorCluster
    {
        public string SessionKey { get; } = NewKey();

        /// <summary>The cluster is signed, as the AppHost runs it: sessions go through the nodes' credential check.</summary>
        public string ClusterKey { get; } = NewKey();

        public Cluster() => Keys = new ClusterKeyRing([Convert.FromBase64String(ClusterKey)]);

        public ServiceHost<CoordinatorOptions> Second { get; private set; } = null!;

        /// <summary>An external MCP server both replicas serve: it is in the registry, yet no session is pinned to it.</summary>
        public UpstreamMcpServer External { get; private set; } = null!;

        /// <summary>The HTTP requests both nodes are serving now.</summary>
        public ActiveRequests NodeRequests { get; } = new();

        /// <summary>Seals and opens ids as the replicas do.</summary>
        public PinnedSessionIds Ids => IdsUnder(SessionKey);

        public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

        public static PinnedSessionIds IdsUnder(string key) => new(Options.Create(new CoordinatorOptions { SessionKey = key }), TimeProvider.System);

        protected override async Task StartServicesAsync()
        {
            foreach (var id in (string[])["node-a", "node-b"])
            {
                Own(TestServices.StartNode(
                    services => services.AddSingleton<IStartupFilter>(NodeRequests),
                    ("ConnectionStrings:redis", Store.ConnectionString), ("Node:Id", id), ("Node:HeartbeatInterval", "00:00:00.200"),
                    ("Node:Packs", "core,conformance"), ("Mcp:Stateless", "false"), ("Cluster:Key", ClusterKey)));
            }

            External = Own(await UpstreamMcpServer.StartAsync("external-token"));
            Coordinator = Own(StartReplica());
            Second = Own(StartReplica());
            await WaitForNodesAsync("node-a", "node-b", "server.external");
            await WaitForNodesAsync(Second, "node-a", "node-b", "server.external");
        }

        private ServiceHost<CoordinatorOptions> StartReplica() => TestServices.StartCoordinator(
            Store.ConnectionString,
            HeaderUser.Add,
            ("Mcp:Stateless", "false"), ("Coordinator:SessionKey", SessionKey), ("Coordinator:RegistryRefreshInterval", "00:00:00.100"), ("Cluster:Key", ClusterKey),
            ("Coordinator:Servers:external:Url", External.McpUrl.ToString()), ("Coordinator:Servers:external:BearerToken", "external-token"));
    }

    [Fact]
    public async Task Sessions_are_pinned_only_to_nodes_never_to_an_external_server_in_the_registry()
    {
        var pinnedTo = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 20; i++)
        {
            Assert.True(cluster.Ids.TryOpen(await StartSessionAsync(), out var pinned));
            pinnedTo.Add(pinned!.NodeId);
        }

        // Were the server a candidate, each of the 20 would have had a third of a chance to land on it.
        Assert.Subset(new HashSet<string>(["node-a", "node-b"], StringComparer.Ordinal), pinnedTo);
    }

    [Fact]
    public async Task A_session_is_pinned_to_one_node_session_and_its_id_hides_both()
    {
        var session = await StartSessionAsync();
        var nodes = new HashSet<string>();
        for (var i = 0; i < 20; i++)
        {
            nodes.Add(await NodeOfCallAsync(McpUrl, session));
        }

        Assert.True(cluster.Ids.TryOpen(session, out var pinned));
        Assert.Equal(pinned!.NodeId, Assert.Single(nodes));
        Assert.False(string.IsNullOrEmpty(pinned.UpstreamSessionId));
        Assert.DoesNotContain(pinned.NodeId, session, StringComparison.Ordinal);
        Assert.DoesNotContain(pinned.UpstreamSessionId!, session, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_session_opened_on_one_replica_continues_on_the_other()
    {
        var session = await StartSessionAsync();

        var onFirst = await NodeOfCallAsync(cluster.Coordinator.McpUrl, session);
        var onSecond = await NodeOfCallAsync(cluster.Second.McpUrl, session);
        using var end = await Http.SendAsync(RawMcp.InSession(new HttpRequestMessage(HttpMethod.Delete, cluster.Second.McpUrl), session), Cancel);
        using var after = await Http.SendAsync(RawMcp.InSession(RawMcp.Post(cluster.Coordinator.McpUrl, RawMcp.EchoCall), session), Cancel);

        Assert.Equal(onFirst, onSecond);
        Assert.Equal(HttpStatusCode.OK, end.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    [Fact]
    public async Task Sampling_requests_reach_the_client_and_its_answers_reach_the_node()
    {
        // Sampling is deprecated from 2026-07-28, and still the one server-to-client request sessions carry.
#pragma warning disable MCP9005
        await using var client = await OfficialClient.ConnectAsync(McpUrl, new McpClientOptions
        {
            Handlers = new McpClientHandlers
            {
                SamplingHandler = (_, _, _) => ValueTask.FromResult(new CreateMessageResult
                {
                    Model = "test-model",
                    Role = Role.Assistant,
                    Content = [new TextContentBlock { Text = "through the coordinator" }],
                }),
            },
        });
#pragma warning restore MCP9005

        var result = await client.CallToolAsync("test_sampling", new Dictionary<string, object?> { ["prompt"] = "Where are you?" }, cancellationToken: Cancel);

        Assert.NotEqual(true, result.IsError);
        Assert.Equal("LLM response: through the coordinator", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
    }

    [Fact]
    public async Task Closing_the_get_stream_at_the_client_closes_it_on_the_node()
    {
        var session = await StartSessionAsync();
        await Eventually.UntilAsync(() => Task.FromResult(cluster.NodeRequests.Count == 0));
        using (var first = await Http.SendAsync(OpenStream(session), HttpCompletionOption.ResponseHeadersRead, Cancel))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal(1, cluster.NodeRequests.Count);
        }

        // The node's GET request ends once the client's has.
        await Eventually.UntilAsync(() => Task.FromResult(cluster.NodeRequests.Count == 0));
    }

    [Fact]
    public async Task Stopping_a_coordinator_ends_its_get_streams_instead_of_waiting_for_them()
    {
        // A shutdown timeout of ten minutes: without ending the stream, stopping would take that long.
        var replica = TestServices.StartCoordinator(
            cluster.Store.ConnectionString, ("Mcp:Stateless", "false"), ("Coordinator:SessionKey", cluster.SessionKey), ("Cluster:Key", cluster.ClusterKey), ("Shutdown:Timeout", "00:10:00"));
        await CoordinatorCluster.WaitForNodesAsync(replica, "node-a", "node-b");
        var session = await RawMcp.StartSessionAsync(Http, replica.McpUrl);
        var get = RawMcp.InSession(new HttpRequestMessage(HttpMethod.Get, replica.McpUrl), session);
        get.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        using var stream = await Http.SendAsync(get, HttpCompletionOption.ResponseHeadersRead, Cancel);
        Assert.Equal(HttpStatusCode.OK, stream.StatusCode);

        // Far less than the shutdown timeout, and far more than ending a stream takes.
        await replica.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(2), Cancel);
    }

    [Theory]
    [InlineData("one_character_changed")]
    [InlineData("truncated")]
    [InlineData("extended")]
    [InlineData("sealed_under_another_key")]
    [InlineData("the_nodes_own_session_id")]
    [InlineData("not_base64")]
    [InlineData("huge")]
    public async Task A_changed_or_foreign_session_id_is_404_and_the_real_session_goes_on(string variant)
    {
        var session = await StartSessionAsync();
        Assert.True(cluster.Ids.TryOpen(session, out var pinned));
        var middle = session.Length / 2;
        var bad = variant switch
        {
            "one_character_changed" => session[..middle] + (session[middle] == 'A' ? 'B' : 'A') + session[(middle + 1)..],
            "truncated" => session[..^4],
            "extended" => session + "AAAA",
            "sealed_under_another_key" => Cluster.IdsUnder(Cluster.NewKey()).Seal(pinned!)!,
            "the_nodes_own_session_id" => pinned!.UpstreamSessionId!,
            "not_base64" => "not a session id!",
            _ => new string('A', PinnedSessionIds.MaxIdLength + 4),
        };

        foreach (var request in (HttpRequestMessage[])[RawMcp.Post(McpUrl, RawMcp.EchoCall), OpenStream(bad), new HttpRequestMessage(HttpMethod.Delete, McpUrl)])
        {
            if (!request.Headers.Contains("Mcp-Session-Id"))
            {
                RawMcp.InSession(request, bad);
            }

            using var response = await Http.SendAsync(request, Cancel);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal(-32001, RawMcp.ErrorCode(await RawMcp.ReadMessageAsync(response)));
            request.Dispose();
        }

        Assert.Equal("still serving", await EchoInSessionAsync(session));
    }

    [Fact]
    public async Task A_user_whose_claim_is_too_long_to_seal_gets_502_naming_the_limit_and_others_go_on()
    {
        const string Initialize = """{"jsonrpc":"2.0","id":7,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""";
        var user = new string('u', PinnedSessionIds.MaxIdLength);

        // Often enough to open every node's breaker, were this counted against the nodes.
        for (var attempt = 0; attempt < 12; attempt++)
        {
            using var response = await Http.SendAsync(HeaderUser.As(user, RawMcp.Post(McpUrl, Initialize)), Cancel);

            // The node's session cannot be handed on: no id that no replica would open reaches the client.
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.False(response.Headers.Contains("Mcp-Session-Id"));
            var message = await RawMcp.ReadMessageAsync(response);
            Assert.Equal(7, message["id"]!.GetValue<int>());
            Assert.Contains($"longer than {PinnedSessionIds.MaxIdLength} characters", RawMcp.ErrorMessage(message), StringComparison.Ordinal);
        }

        Assert.Equal("still serving", await EchoInSessionAsync(await StartSessionAsync()));
    }

    [Fact]
    public async Task A_session_whose_node_has_left_the_cluster_is_404()
    {
        var session = cluster.Ids.Seal(new PinnedSession("node-gone", "its-session", Owner: null))!;

        using var response = await Http.SendAsync(RawMcp.InSession(RawMcp.Post(McpUrl, RawMcp.EchoCall), session), Cancel);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("node (node-gone) has left the cluster", RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(response)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_session_whose_node_cannot_be_reached_is_404_and_new_sessions_avoid_a_draining_node()
    {
        await using var registered = await cluster.RegisterInStatusAsync(NodeStatus.Draining, "node-dead", new Uri($"http://127.0.0.1:{PortAllocator.RefusingPort}/mcp"), "echo");
        var session = cluster.Ids.Seal(new PinnedSession("node-dead", "its-session", Owner: null))!;

        using var response = await Http.SendAsync(RawMcp.InSession(RawMcp.Post(McpUrl, RawMcp.EchoCall), session), Cancel);
        var opened = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            Assert.True(cluster.Ids.TryOpen(await StartSessionAsync(), out var pinned));
            opened.Add(pinned!.NodeId);
        }

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("node (node-dead) cannot be reached", RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(response)), StringComparison.Ordinal);
        Assert.DoesNotContain("node-dead", opened);
    }

    [Fact]
    public async Task Without_a_ready_node_initialize_is_503_saying_why()
    {
        // The coordinator's store cannot be reached, so its registry never lists a node.
        await using var lonely = TestServices.StartCoordinator(
            $"127.0.0.1:{PortAllocator.RefusingPort}", ("Mcp:Stateless", "false"), ("Coordinator:SessionKey", cluster.SessionKey));

        using var response = await Http.SendAsync(RawMcp.Post(lonely.McpUrl, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"""), Cancel);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("No node can open a session: the cluster has no live nodes", RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(response)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_whose_heartbeat_ran_out_since_the_last_registry_read_gets_no_session()
    {
        // This replica reads the registry at start and not again for ten minutes; its clock then jumps past
        // every heartbeat's time to live.
        var clock = new ShiftedClock();
        await using var stale = TestServices.StartCoordinator(
            cluster.Store.ConnectionString, services => services.AddSingleton<TimeProvider>(clock),
            ("Mcp:Stateless", "false"), ("Coordinator:SessionKey", cluster.SessionKey), ("Cluster:Key", cluster.ClusterKey), ("Coordinator:RegistryRefreshInterval", "00:10:00"));
        await CoordinatorCluster.WaitForNodesAsync(stale, "node-a", "node-b");
        var opened = await RawMcp.StartSessionAsync(Http, stale.McpUrl);

        clock.Shift = TimeSpan.FromHours(1);
        using var response = await Http.SendAsync(RawMcp.Post(stale.McpUrl, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"""), Cancel);

        Assert.True(cluster.Ids.TryOpen(opened, out _));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("No node can open a session: no ready node has a live heartbeat", RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(response)), StringComparison.Ordinal);
    }

    /// <summary>Calls get_capabilities in the session through <paramref name="coordinator"/>, and returns the node that ran it.</summary>
    private async Task<string> NodeOfCallAsync(Uri coordinator, string session)
    {
        using var response = await Http.SendAsync(
            RawMcp.InSession(RawMcp.Post(coordinator, """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_capabilities","arguments":{}}}"""), session),
            Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(session, response.Headers.GetValues("Mcp-Session-Id").Single());
        return (await RawMcp.ReadMessageAsync(response))["result"]!["structuredContent"]!["nodeId"]!.GetValue<string>();
    }
}
