using System.Text.Json.Nodes;
using McpAspire.Cluster;
using McpAspire.Cluster.Security;
using McpAspire.McpCoordinator;
using ModelContextProtocol.Protocol;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>
/// A class fixture: a Garnet of its own, and the coordinator and nodes a subclass starts on it, with helpers
/// that add and remove nodes in the registry and wait until the coordinator sees the change.
/// </summary>
public abstract class CoordinatorCluster : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _hosts = [];

    public StoreServer Store { get; private set; } = null!;

    /// <summary>The cluster key the services and <see cref="PublishAsync"/> sign with; none unless a subclass sets one.</summary>
    public ClusterKeyRing Keys { get; protected init; } = ClusterKeyRing.None;

    /// <summary>The coordinator the helpers ask; subclasses set it in <see cref="StartServicesAsync"/>.</summary>
    public ServiceHost<CoordinatorOptions> Coordinator { get; protected set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Store = await StoreServer.StartGarnetAsync();
        await StartServicesAsync();
    }

    /// <summary>Starts the services on <see cref="Store"/>; each goes through <see cref="Own{T}"/>.</summary>
    protected abstract Task StartServicesAsync();

    /// <summary>Stops <paramref name="host"/> with the fixture, before the store.</summary>
    protected T Own<T>(T host)
        where T : IAsyncDisposable
    {
        _hosts.Add(host);
        return host;
    }

    /// <summary>Waits until the coordinator's registry lists every one of <paramref name="ids"/>.</summary>
    public Task WaitForNodesAsync(params string[] ids) => WaitForNodesAsync(Coordinator, ids);

    /// <summary>Waits until <paramref name="coordinator"/>'s registry lists every one of <paramref name="ids"/>.</summary>
    public static async Task WaitForNodesAsync(ServiceHost<CoordinatorOptions> coordinator, params string[] ids)
    {
        using var http = new HttpClient();
        await Eventually.WaitForAsync(async () =>
        {
            var nodes = await NodeIdsAsync(http, coordinator);
            return ids.All(nodes.Contains) ? nodes : null;
        });
    }

    /// <summary>
    /// Publishes a heartbeat as a ready node would, so the coordinator routes to <paramref name="mcpUrl"/>. Disposing
    /// the result unregisters the node (see <see cref="UnregisterAsync"/>).
    /// </summary>
    public Task<Registration> RegisterAsync(string id, Uri mcpUrl, params string[] tools) => RegisterInStatusAsync(NodeStatus.Ready, id, mcpUrl, tools);

    /// <summary>Publishes a heartbeat as a node in <paramref name="status"/> (a <see cref="NodeStatus"/>) would.</summary>
    public Task<Registration> RegisterInStatusAsync(string status, string id, Uri mcpUrl, params string[] tools) =>
        PublishAsync(id, mcpUrl, status, [.. tools.Select(tool => new Tool { Name = tool, Description = $"The {tool} tool." })]);

    /// <summary>Publishes a heartbeat with these tool definitions, annotations and all, signed with <see cref="Keys"/>.</summary>
    public async Task<Registration> PublishAsync(string id, Uri mcpUrl, string status, IReadOnlyList<Tool> tools, string? version = null)
    {
        await WriteRecordsAsync(Store.ConnectionString, Keys, Heartbeat(id, mcpUrl, status, version), tools);
        await WaitForNodesAsync(id);
        return new Registration(this, id);
    }

    /// <summary>A heartbeat as a ready node sends it, valid for a minute; <see cref="WriteRecordsAsync"/> fills in its tools.</summary>
    public static NodeHeartbeat Heartbeat(string id, Uri mcpUrl, string status = NodeStatus.Ready, string? version = null) => new()
    {
        Id = id,
        McpUrl = mcpUrl,
        Status = status,
        MaxConcurrency = 1000,
        Version = version,
        ToolsHash = string.Empty,
        SentAt = DateTimeOffset.UtcNow,
        TtlMilliseconds = 60_000,
    };

    /// <summary>Writes a node's records as its heartbeat publisher does: the tool definitions, then the heartbeat naming them.</summary>
    public static async Task WriteRecordsAsync(string store, ClusterKeyRing keys, NodeHeartbeat heartbeat, IReadOnlyList<Tool> tools)
    {
        await using var redis = await Eventually.ConnectAsync(store);
        var catalog = ToolCatalog.Of(tools);
        await redis.SetAsync(ClusterKeys.Tools(catalog.Hash), catalog.Json.ToArray(), TimeSpan.FromMinutes(10));
        var record = HeartbeatRecord.Write(heartbeat with { ToolsHash = catalog.Hash, ToolCount = catalog.Count }, keys);
        await redis.SetAsync(ClusterKeys.Heartbeat(heartbeat.Id), record, TimeSpan.FromMinutes(1));
        await redis.SetAddAsync(ClusterKeys.NodeSet, heartbeat.Id);
    }

    /// <summary>Removes nodes as a clean stop would, and waits until the coordinator no longer lists them, so later tests see only the real nodes.</summary>
    public async Task UnregisterAsync(params string[] ids)
    {
        await using (var redis = await Eventually.ConnectAsync(Store.ConnectionString))
        {
            foreach (var id in ids)
            {
                await redis.DeleteAsync(ClusterKeys.Heartbeat(id));
            }

            await redis.SetRemoveAsync(ClusterKeys.NodeSet, ids);
        }

        using var http = new HttpClient();
        await Eventually.WaitForAsync(async () =>
        {
            var nodes = await NodeIdsAsync(http, Coordinator);
            return ids.Any(nodes.Contains) ? null : nodes;
        });
    }

    /// <summary>Waits until the registry has been read from Redis after <paramref name="moment"/>.</summary>
    public async Task WaitForRefreshAfterAsync(DateTimeOffset moment)
    {
        using var http = new HttpClient();
        await Eventually.WaitForAsync(async () =>
        {
            var body = JsonNode.Parse(await http.GetStringAsync(new Uri(Coordinator.BaseUrl, "/api/nodes")))!;
            return body["readAt"]?.GetValue<DateTimeOffset>() > moment ? body : null;
        });
    }

    public Task<List<string>> NodeIdsAsync(HttpClient http) => NodeIdsAsync(http, Coordinator);

    private static async Task<List<string>> NodeIdsAsync(HttpClient http, ServiceHost<CoordinatorOptions> coordinator)
    {
        var body = JsonNode.Parse(await http.GetStringAsync(new Uri(coordinator.BaseUrl, "/api/nodes")))!;
        return [.. body["nodes"]!.AsArray().Select(node => node!["id"]!.GetValue<string>())];
    }

    public virtual async ValueTask DisposeAsync()
    {
        for (var i = _hosts.Count - 1; i >= 0; i--)
        {
            await _hosts[i].DisposeAsync();
        }

        await Store.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A stand-in node published to the registry; disposing it unregisters the node.</summary>
public sealed class Registration(CoordinatorCluster cluster, string id) : IAsyncDisposable
{
    /// <inheritdoc/>
    public ValueTask DisposeAsync() => new(cluster.UnregisterAsync(id));
}
