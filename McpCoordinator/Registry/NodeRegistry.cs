using System.Text.Json;
using System.Threading.Channels;
using McpAspire.ServiceDefaults.Cluster;
using McpAspire.ServiceDefaults.Redis;
using Microsoft.Extensions.Options;

namespace McpAspire.McpCoordinator.Registry;

/// <summary>
/// Keeps the coordinator's view of the cluster: re-reads every node's heartbeat from Redis each
/// <see cref="CoordinatorOptions.RegistryRefreshInterval"/>, and at once when a node announces that it
/// joined, is draining or left (<see cref="ClusterKeys.EventsChannel"/>). Drops nodes whose heartbeat
/// expired (and sweeps them from the node set), and keeps the last view, marked stale, while Redis is
/// unreachable.
/// </summary>
public sealed partial class NodeRegistry(
    RedisClient redis,
    RedisSubscriber subscriber,
    RegistryChanges changes,
    IOptions<CoordinatorOptions> options,
    TimeProvider time,
    ILogger<NodeRegistry> logger) : BackgroundService
{
    private RegistrySnapshot _current = RegistrySnapshot.Empty;

    // A pending wake-up is enough: reads that were asked for while one runs fold into the next.
    private readonly Channel<bool> _refresh = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>The latest view of the cluster.</summary>
    public RegistrySnapshot Current => Volatile.Read(ref _current);

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Messages published while the subscriber had no connection are lost: re-read after each (re)connection.
        subscriber.Resubscribed += OnResubscribed;
        using var timer = new PeriodicTimer(options.Value.RegistryRefreshInterval, time);
        var ticking = TickAsync(timer, stoppingToken);
        try
        {
            await using var events = await subscriber.SubscribeAsync(ClusterKeys.EventsChannel, _ => _refresh.Writer.TryWrite(true), stoppingToken);
            do
            {
                await RefreshAsync(stoppingToken);
            }
            while (await _refresh.Reader.WaitToReadAsync(stoppingToken) && _refresh.Reader.TryRead(out _));
        }
        finally
        {
            subscriber.Resubscribed -= OnResubscribed;
            timer.Dispose();
            await ticking;
        }
    }

    private void OnResubscribed(object? sender, EventArgs e) => _refresh.Writer.TryWrite(true);

    /// <summary>Asks for a read every refresh interval until the coordinator stops.</summary>
    private async Task TickAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                _refresh.Writer.TryWrite(true);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>Reads the registry from Redis once.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            var ids = await redis.SetMembersAsync(ClusterKeys.NodeSet, cancellationToken);
            var heartbeats = await redis.GetManyAsync(ids.Select(ClusterKeys.Heartbeat).ToArray(), cancellationToken);
            var now = time.GetUtcNow();
            var nodes = new List<RegisteredNode>(ids.Count);
            var gone = new List<string>();
            for (var i = 0; i < ids.Count; i++)
            {
                if (heartbeats[i] is not { } json)
                {
                    gone.Add(ids[i]);
                }
                else if (Parse(ids[i], json) is { } node && node.IsLiveAt(now))
                {
                    nodes.Add(node);
                }
            }

            if (gone.Count > 0)
            {
                // The heartbeat key expired: the node died without deregistering.
                await redis.SetRemoveAsync(ClusterKeys.NodeSet, gone, cancellationToken);
                LogSwept(gone);
            }

            var previous = Current;
            Volatile.Write(ref _current, new RegistrySnapshot(nodes.OrderBy(node => node.Id, StringComparer.Ordinal).ToArray(), now));
            ReportChanges(previous, Current);
        }
        catch (RedisException ex)
        {
            var previous = Current;
            Volatile.Write(ref _current, previous.AsStale($"Redis is unreachable: {ex.Message}"));
            if (!previous.IsStale)
            {
                LogStale(ex.Message);
                changes.Publish([new RegistryChange("stale", null, time.GetUtcNow(), ex.Message)]);
            }
        }
    }

    /// <summary>The longest heartbeat TTL accepted; anything longer is a corrupt record.</summary>
    private const long MaxTtlMilliseconds = 24 * 60 * 60 * 1000;

    private RegisteredNode? Parse(string id, string json)
    {
        try
        {
            var heartbeat = JsonSerializer.Deserialize<NodeHeartbeat>(json, ClusterJson.Options);
            if (heartbeat is { McpUrl.IsAbsoluteUri: true, Tools: not null, Packs: not null, TtlMilliseconds: > 0 and <= MaxTtlMilliseconds }
                && heartbeat.Id == id
                && heartbeat.SentAt > DateTimeOffset.UnixEpoch
                && heartbeat.Tools.All(tool => tool?.Name is not null))
            {
                return new RegisteredNode(heartbeat);
            }

            LogUnreadable(id, "it lacks an id matching its key, an absolute MCP URL, named tools, a send time or a TTL of at most a day");
            return null;
        }
        catch (JsonException ex)
        {
            LogUnreadable(id, ex.Message);
            return null;
        }
    }

    private void ReportChanges(RegistrySnapshot previous, RegistrySnapshot current)
    {
        var before = previous.Nodes.ToDictionary(node => node.Id, node => node.Heartbeat.Status, StringComparer.Ordinal);
        var after = current.Nodes.ToDictionary(node => node.Id, node => node.Heartbeat.Status, StringComparer.Ordinal);
        var seen = new List<RegistryChange>();
        foreach (var (id, status) in after)
        {
            if (!before.TryGetValue(id, out var was))
            {
                LogJoined(id);
                seen.Add(new RegistryChange("join", id, current.ReadAt));
            }
            else if (was != status)
            {
                seen.Add(new RegistryChange(status == NodeStatus.Draining ? "draining" : "ready", id, current.ReadAt));
            }
        }

        foreach (var id in before.Keys.Where(id => !after.ContainsKey(id)))
        {
            LogLeft(id);
            seen.Add(new RegistryChange("leave", id, current.ReadAt));
        }

        foreach (var conflict in current.Conflicts.Except(previous.Conflicts, ConflictComparer.Instance))
        {
            LogConflict(conflict.Tool, conflict.OtherNodes, conflict.ServedFrom);
        }

        if (previous.IsStale && previous.ReadAt != DateTimeOffset.MinValue)
        {
            LogRecovered(current.Nodes.Count);
            seen.Add(new RegistryChange("recovered", null, current.ReadAt));
        }

        changes.Publish(seen);
    }

    [LoggerMessage(EventId = 3007, Level = LogLevel.Warning, Message = "Tool {Tool} has another schema on node(s) {OtherNodes}; serving the definition of node {ServedFrom} (the newest version) and routing its calls only to nodes that share it")]
    private partial void LogConflict(string tool, IReadOnlyList<string> otherNodes, string servedFrom);

    /// <summary>Two conflicts are the same when the same tool splits the same nodes the same way.</summary>
    private sealed class ConflictComparer : IEqualityComparer<ToolConflict>
    {
        public static ConflictComparer Instance { get; } = new();

        public bool Equals(ToolConflict? x, ToolConflict? y) =>
            x is not null && y is not null && x.Tool == y.Tool && x.ServedFrom == y.ServedFrom && x.OtherNodes.SequenceEqual(y.OtherNodes);

        public int GetHashCode(ToolConflict obj) => HashCode.Combine(obj.Tool, obj.ServedFrom);
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Node {NodeId} joined")]
    private partial void LogJoined(string nodeId);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Node {NodeId} left")]
    private partial void LogLeft(string nodeId);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "Swept expired node(s) {NodeIds} from the registry")]
    private partial void LogSwept(IReadOnlyList<string> nodeIds);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Cannot read the registry ({Reason}); routing on the last known nodes")]
    private partial void LogStale(string reason);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Information, Message = "Registry readable again; {Count} node(s) live")]
    private partial void LogRecovered(int count);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "The heartbeat of node {NodeId} is unreadable and is ignored: {Reason}")]
    private partial void LogUnreadable(string nodeId, string reason);
}
