using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using McpAspire.Cluster;
using McpAspire.Cluster.Security;
using McpAspire.IntegrationTests.Infrastructure;
using ModelContextProtocol.Protocol;
using StackExchange.Redis;

namespace McpAspire.IntegrationTests.Node;

/// <summary>
/// A node registers itself in a real store, keeps its heartbeat alive with a TTL, deregisters on a clean stop,
/// and drains while its drain key exists.
/// </summary>
public sealed class HeartbeatTests(StoreServers stores)
{
    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task A_node_registers_with_a_ttl_and_deregisters_on_clean_shutdown(string store)
    {
        var redisConnection = stores.ConnectionString(store);
        var nodeId = $"hb-{store}-{Guid.NewGuid():N}";
        await using var redis = await Eventually.ConnectAsync(redisConnection);
        var node = TestServices.StartNode(("ConnectionStrings:redis", redisConnection), ("Node:Id", nodeId), ("Node:HeartbeatInterval", "00:00:00.200"), ("Node:HeartbeatTtl", "00:00:05"));

        var heartbeat = await Eventually.WaitForAsync(async () => await redis.GetAsync(ClusterKeys.Heartbeat(nodeId), TestContext.Current.CancellationToken));
        var published = HeartbeatRecord.Read(Encoding.UTF8.GetBytes(heartbeat), ClusterKeyRing.None, out _)!;
        var tools = JsonSerializer.Deserialize<Tool[]>((await redis.GetAsync(ClusterKeys.Tools(published.ToolsHash), TestContext.Current.CancellationToken))!, ClusterJson.Options)!;
        var ttl = await redis.TimeToLiveMillisecondsAsync(ClusterKeys.Heartbeat(nodeId), TestContext.Current.CancellationToken);
        var members = await redis.SetMembersAsync(ClusterKeys.NodeSet, TestContext.Current.CancellationToken);

        Assert.Equal(nodeId, published.Id);
        Assert.Equal(node.McpUrl, published.McpUrl);
        Assert.Equal(NodeStatus.Ready, published.Status);
        Assert.Equal(["echo", "get_capabilities"], tools.Select(tool => tool.Name));
        Assert.Equal(2, published.ToolCount);
        Assert.Equal("string", tools[0].InputSchema.GetProperty("properties").GetProperty("message").GetProperty("type").GetString());
        Assert.InRange(ttl, 1, 5000);
        Assert.Contains(nodeId, members);

        await node.DisposeAsync();

        // Well before the 5 s TTL could expire it, the node has removed itself.
        await Eventually.UntilAsync(async () =>
            await redis.GetAsync(ClusterKeys.Heartbeat(nodeId), TestContext.Current.CancellationToken) is null
            && !(await redis.SetMembersAsync(ClusterKeys.NodeSet, TestContext.Current.CancellationToken)).Contains(nodeId));
    }

    [Fact]
    public async Task A_node_with_a_cluster_key_signs_its_heartbeat_and_writes_its_tools_again_when_the_store_lost_them()
    {
        var store = stores.ConnectionString(StoreServers.Garnet);
        var nodeId = $"signed-{Guid.NewGuid():N}";
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        await using var redis = await Eventually.ConnectAsync(store);
        await using var node = TestServices.StartNode(("ConnectionStrings:redis", store), ("Node:Id", nodeId), ("Cluster:Key", key), ("Node:HeartbeatInterval", "00:00:00.200"));
        var keys = new ClusterKeyRing([Convert.FromBase64String(key)]);
        var other = new ClusterKeyRing([RandomNumberGenerator.GetBytes(32)]);

        var record = Encoding.UTF8.GetBytes(await Eventually.WaitForAsync(async () => await redis.GetAsync(ClusterKeys.Heartbeat(nodeId), TestContext.Current.CancellationToken)));
        var heartbeat = HeartbeatRecord.Read(record, keys, out var problem);
        HeartbeatRecord.Read(record, other, out var otherProblem);
        Assert.Null(problem);
        Assert.StartsWith(HeartbeatRecord.Prefix, Encoding.UTF8.GetString(record), StringComparison.Ordinal);
        Assert.Contains("does not hold", otherProblem, StringComparison.Ordinal);

        // A store restarted without persistence loses the definitions: the node's next heartbeat writes them again.
        Assert.True(await redis.DeleteAsync(ClusterKeys.Tools(heartbeat!.ToolsHash), TestContext.Current.CancellationToken));
        var tools = await Eventually.WaitForAsync(async () => await redis.GetAsync(ClusterKeys.Tools(heartbeat.ToolsHash), TestContext.Current.CancellationToken));
        Assert.Equal(heartbeat.ToolsHash, ToolCatalog.HashOf(Encoding.UTF8.GetBytes(tools)));
    }

    [Fact]
    public async Task A_node_with_redis_reports_the_store_in_its_health()
    {
        var node = TestServices.StartNode(("ConnectionStrings:redis", stores.ConnectionString(StoreServers.Garnet)), ("Node:Id", $"health-{Guid.NewGuid():N}"));
        await using var _ = node;
        using var http = new HttpClient();

        var body = await Eventually.WaitForAsync(async () =>
        {
            var text = await http.GetStringAsync(new Uri(node.BaseUrl, "/health"), TestContext.Current.CancellationToken);
            return text.Contains("\"redis\":{\"status\":\"Healthy\"", StringComparison.Ordinal) ? text : null;
        });

        Assert.Contains("\"status\":\"Healthy\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_whose_store_is_down_reports_it_degraded_and_stays_ready()
    {
        await using var node = TestServices.StartNode(("ConnectionStrings:redis", $"127.0.0.1:{PortAllocator.RefusingPort},connectTimeout=500"), ("Node:Id", $"health-{Guid.NewGuid():N}"));
        using var http = new HttpClient();

        using var response = await http.GetAsync(new Uri(node.BaseUrl, "/health"), TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        // Degraded, not Unhealthy: the node serves calls without its store, so it must stay in rotation.
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"redis\":{\"status\":\"Degraded\"", body, StringComparison.Ordinal);
        Assert.Equal("still serving", await RawMcp.EchoAsync(http, node.McpUrl));
    }

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task A_node_drains_while_its_drain_key_exists_and_takes_calls_again_once_it_is_gone(string store)
    {
        var redisConnection = stores.ConnectionString(store);
        var nodeId = $"drain-{store}-{Guid.NewGuid():N}";
        await using var redis = await Eventually.ConnectAsync(redisConnection);
        await using var node = TestServices.StartNode(("ConnectionStrings:redis", redisConnection), ("Node:Id", nodeId), ("Node:HeartbeatInterval", "00:00:00.200"));
        using var http = new HttpClient();
        await Eventually.UntilAsync(async () => await StatusAsync(redis, nodeId) == NodeStatus.Ready);
        var events = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(ClusterKeys.EventsChannel), (_, message) => events.Enqueue(message.ToString()));

        await redis.SetAsync(ClusterKeys.DrainRequest(nodeId), "maintenance", cancellationToken: TestContext.Current.CancellationToken);
        await Eventually.UntilAsync(async () => await StatusAsync(redis, nodeId) == NodeStatus.Draining);
        using (var refused = await http.SendAsync(RawMcp.Post(node.McpUrl, RawMcp.EchoCall), TestContext.Current.CancellationToken))
        {
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Contains("an operator asked it to take no new calls", RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(refused)), StringComparison.Ordinal);
        }

        await redis.DeleteAsync(ClusterKeys.DrainRequest(nodeId), TestContext.Current.CancellationToken);
        await Eventually.UntilAsync(async () => await StatusAsync(redis, nodeId) == NodeStatus.Ready);

        Assert.Equal("still serving", await RawMcp.EchoAsync(http, node.McpUrl));
        await Eventually.UntilAsync(() => Task.FromResult(events.Any(e => e.Contains("\"resume\"", StringComparison.Ordinal))));
        Assert.Contains(events, e => e.Contains("\"drain\"", StringComparison.Ordinal) && e.Contains(nodeId, StringComparison.Ordinal));
    }

    private static async Task<string?> StatusAsync(IConnectionMultiplexer redis, string nodeId) =>
        await redis.GetAsync(ClusterKeys.Heartbeat(nodeId), TestContext.Current.CancellationToken) is { } json
            ? JsonSerializer.Deserialize<NodeHeartbeat>(json, ClusterJson.Options)!.Status
            : null;
}
