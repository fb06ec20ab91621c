using System.Text.Json;
using System.Threading.Channels;
using McpAspire.Cluster;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;
using StackExchange.Redis;

namespace McpAspire.McpCoordinator.Registry;

/// <summary>
/// Keeps the coordinator's view of the cluster: re-reads every node's heartbeat from the store each
/// <see cref="CoordinatorOptions.RegistryRefreshInterval"/>, and at once when a node announces that it
/// joined, is draining or left (<see cref="ClusterKeys.EventsChannel"/>) or the connection to the store is
/// restored (announcements sent meanwhile were lost). Drops nodes whose heartbeat expired (and sweeps them from
/// the node set). While the store cannot be read, it keeps the last view, marked stale, retries every
/// <see cref="RetryInterval"/> at most, and takes no heartbeat's age for death: none can arrive. Once the store
/// is back, a node of the last view that has not yet heartbeated again is kept for one heartbeat TTL, so
/// routing does not wait for the nodes to re-register. A record that cannot be read is skipped and logged;
/// nothing in one record can stop the loop.
/// </summary>
public sealed partial class NodeRegistry(
    IConnectionMultiplexer redis,
    RegistryChanges changes,
    IOptions<CoordinatorOptions> options,
    TimeProvider time,
    ILogger<NodeRegistry> logger) : BackgroundService
{
    /// <summary>The longest wait before the registry tries again to read a store it could not read.</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    private RegistrySnapshot _current = RegistrySnapshot.Empty;

    // The nodes of the last good read before the store became unreadable, and when it became readable again.
    private IReadOnlyList<RegisteredNode> _beforeOutage = [];
    private DateTimeOffset _recoveredAt = DateTimeOffset.MinValue;

    // A pending wake-up is enough: reads that were asked for while one runs fold into the next.
    private readonly Channel<bool> _refresh = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private ChannelMessageQueue? _events;

    /// <summary>The latest view of the cluster.</summary>
    public RegistrySnapshot Current => Volatile.Read(ref _current);

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        redis.ConnectionRestored += OnConnectionRestored;
        using var timer = new PeriodicTimer(options.Value.RegistryRefreshInterval, time);
        var ticking = TickAsync(timer, stoppingToken);
        try
        {
            do
            {
                await SubscribeAsync();
                await RefreshAsync(stoppingToken);
            }
            while (await NextReadAsync(stoppingToken));
        }
        finally
        {
            redis.ConnectionRestored -= OnConnectionRestored;
            timer.Dispose();
            await ticking;
            if (_events is not null)
            {
                await _events.UnsubscribeAsync();
            }
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) => _refresh.Writer.TryWrite(true);

    /// <summary>Listens for the nodes' announcements once the store takes the subscription; until then the reads go on.</summary>
    private async Task SubscribeAsync()
    {
        if (_events is not null)
        {
            return;
        }

        try
        {
            _events = await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(ClusterKeys.EventsChannel));
            _events.OnMessage(_ => _refresh.Writer.TryWrite(true));
        }
        catch (Exception ex) when (ClusterStore.IsStoreFailure(ex))
        {
            LogNotSubscribed(ex.Message);
        }
    }

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

    /// <summary>
    /// Waits until a read is asked for, or, while the view is stale, for <see cref="RetryInterval"/> at most, sooner than
    /// a long refresh interval would ask; <see langword="false"/> once the coordinator stops.
    /// </summary>
    private async Task<bool> NextReadAsync(CancellationToken stoppingToken)
    {
        using var retry = Current.IsStale ? new CancellationTokenSource(RetryInterval, time) : new CancellationTokenSource();
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, retry.Token);
        try
        {
            await _refresh.Reader.WaitToReadAsync(wait.Token);
            _refresh.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // Time to try the store again.
        }

        return !stoppingToken.IsCancellationRequested;
    }

    /// <summary>Reads the registry from the store once.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            var database = redis.GetDatabase();
            var ids = (await database.SetMembersAsync(ClusterKeys.NodeSet).WaitAsync(cancellationToken))
                .Select(member => member.ToString())
                .ToArray();
            var heartbeats = await database.StringGetAsync([.. ids.Select(id => (RedisKey)ClusterKeys.Heartbeat(id))]).WaitAsync(cancellationToken);
            var now = time.GetUtcNow();
            var nodes = new List<RegisteredNode>(ids.Length);
            var gone = new List<string>();
            for (var i = 0; i < ids.Length; i++)
            {
                if (heartbeats[i].IsNull)
                {
                    gone.Add(ids[i]);
                }
                else if (Parse(ids[i], heartbeats[i].ToString()) is { } node && node.IsLiveAt(now))
                {
                    nodes.Add(node);
                }
            }

            if (gone.Count > 0)
            {
                // The heartbeat key expired: the node died without deregistering.
                await database.SetRemoveAsync(ClusterKeys.NodeSet, [.. gone.Select(id => (RedisValue)id)]).WaitAsync(cancellationToken);
                LogSwept(gone);
            }

            var previous = Current;
            if (previous.IsStale && previous.ReadAt != DateTimeOffset.MinValue)
            {
                _beforeOutage = previous.Nodes;
                _recoveredAt = now;
            }

            AddNodesYetToHeartbeat(nodes, now);
            Volatile.Write(ref _current, new RegistrySnapshot(nodes.OrderBy(node => node.Id, StringComparer.Ordinal).ToArray(), now));
            ReportChanges(previous, Current);
        }
        catch (Exception ex) when (ClusterStore.IsStoreFailure(ex, cancellationToken))
        {
            MarkStale($"Redis is unreachable: {ex.Message}");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogRefreshFailed(ex);
            MarkStale($"The registry could not be read: {ex.Message}");
        }
    }

    /// <summary>
    /// Adds each node of the view before the outage that has not heartbeated since, valid for one of its TTLs from
    /// the store's return: time enough to register again.
    /// </summary>
    private void AddNodesYetToHeartbeat(List<RegisteredNode> nodes, DateTimeOffset now)
    {
        foreach (var node in _beforeOutage)
        {
            var until = _recoveredAt.AddMilliseconds(node.Heartbeat.TtlMilliseconds);
            if (until > now && !nodes.Any(seen => seen.Id == node.Id))
            {
                nodes.Add(node.ValidUntil(until));
            }
        }
    }

    private void MarkStale(string reason)
    {
        var previous = Current;
        Volatile.Write(ref _current, previous.AsStale(reason));
        if (!previous.IsStale)
        {
            LogStale(reason);
            changes.Publish([new RegistryChange("stale", null, time.GetUtcNow(), reason)]);
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
                && heartbeat.Tools.All(IsWellFormed))
            {
                return new RegisteredNode(heartbeat);
            }

            LogUnreadable(id, "it lacks an id matching its key, an absolute MCP URL, named tools with object schemas, a send time or a TTL of at most a day");
            return null;
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or NotSupportedException or InvalidOperationException)
        {
            LogUnreadable(id, ex.Message);
            return null;
        }
    }

    /// <summary>Whether a tool has a name and schemas that are JSON objects, as the registry compares them.</summary>
    private static bool IsWellFormed(Tool? tool) =>
        tool is { Name: not null, InputSchema.ValueKind: JsonValueKind.Object }
        && tool.OutputSchema is null or { ValueKind: JsonValueKind.Object };

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

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning, Message = "Cannot subscribe to the nodes' announcements yet ({Reason}); the periodic reads go on, and the subscription is tried again")]
    private partial void LogNotSubscribed(string reason);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Error, Message = "Reading the registry failed; routing on the last known nodes")]
    private partial void LogRefreshFailed(Exception error);
}
