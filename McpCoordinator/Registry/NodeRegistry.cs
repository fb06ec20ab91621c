using System.Text.Json;
using System.Threading.Channels;
using McpAspire.Cluster;
using Microsoft.Extensions.Options;
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
/// routing does not wait for the nodes to re-register. A record that fails its checks (<see cref="RegistryRecords"/>)
/// is rejected, shown in <see cref="RegistrySnapshot.Rejected"/> and logged once; nothing in one record can stop
/// the loop or reach another node's entry.
/// </summary>
public sealed partial class NodeRegistry(
    IConnectionMultiplexer redis,
    RegistryChanges changes,
    RegistryRecords checks,
    IOptions<CoordinatorOptions> options,
    IOptions<RegistryOptions> registryOptions,
    TimeProvider time,
    ILogger<NodeRegistry> logger) : BackgroundService
{
    /// <summary>The longest wait before the registry tries again to read a store it could not read.</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    private RegistrySnapshot _current = RegistrySnapshot.Empty;

    // The nodes of the last good read before the store became unreadable, and when it became readable again.
    private IReadOnlyList<RegisteredNode> _beforeOutage = [];
    private DateTimeOffset _recoveredAt = DateTimeOffset.MinValue;

    // The ids whose heartbeats the last read took, asked for again with the node set at the next.
    private string[] _expected = [];

    // The ids whose heartbeat was too large when last read: only their length is read until it fits.
    private readonly HashSet<string> _oversized = new(StringComparer.Ordinal);

    // Per node id, the last heartbeat record read and what checking it gave, so unchanged bytes are not checked again.
    private readonly Dictionary<string, LastRecord> _lastRecords = new(StringComparer.Ordinal);

    // Tool definitions, and resources and prompts, by hash: read once, while some node names them. A record whose
    // content has its hash but fails the checks fails for good; one missing or not matching its hash is read again at
    // the next refresh.
    private readonly HashedRecords<NodeTools> _tools = new(ClusterKeys.Tools, "its tool definitions are not in the store");
    private readonly HashedRecords<NodePrimitives> _primitives = new(ClusterKeys.Primitives, "its resources and prompts are not in the store");

    // The nodes whose status the last read changed; nodes are updated in place, so the old snapshot cannot tell.
    private readonly List<(string Id, string Status)> _statusChanges = [];

    // The records rejected at the last read, by id, each with the time it was first rejected for its reason.
    private readonly Dictionary<string, RejectedRecord> _rejected = new(StringComparer.Ordinal);

    // A pending wake-up is enough: reads that were asked for while one runs fold into the next.
    private readonly Channel<bool> _refresh = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private ChannelMessageQueue? _events;

    /// <summary>The latest view of the cluster.</summary>
    public RegistrySnapshot Current => Volatile.Read(ref _current);

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!checks.RequiresSignatures)
        {
            LogUnsigned();
        }

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

    /// <summary>
    /// Reads the registry from the store once. The heartbeats are read in one <c>MGET</c>, sent with the read of the node
    /// set, so a refresh is one round trip while the set does not change (a record found too large is not downloaded
    /// again while it stays so), and each is checked (<see cref="RegistryRecords"/>) only when its bytes changed; tool definitions are read only for a
    /// hash not seen before. A heartbeat that changes only a node's load updates the node in place; the tool union
    /// is built again only when a node joins, leaves, changes status or changes its tools. A record that fails is
    /// rejected with the reason, logged once, and the rest go on.
    /// </summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            var database = redis.GetDatabase();

            // The node set seldom changes: the heartbeats of the nodes read last time are asked for with it, in the same
            // round trip, and only nodes new to the set cost a second one. Awaited as they are, not through the stopping
            // token: on this path, every second, that would cost a continuation more; the client's own timeout bounds them.
            var expected = _expected;
            var membersRead = database.SetMembersAsync(ClusterKeys.NodeSet);
            var expectedRead = expected.Length == 0 ? Task.FromResult(Array.Empty<RedisValue>()) : database.StringGetAsync([.. expected.Select(id => (RedisKey)ClusterKeys.Heartbeat(id))]);
            await Task.WhenAll(membersRead, expectedRead);
            var members = (await membersRead).Select(member => member.ToString()).ToArray();
            var prefetched = new Dictionary<string, RedisValue>(expected.Length, StringComparer.Ordinal);
            var expectedValues = await expectedRead;
            var prefetchedBytes = 0L;
            for (var i = 0; i < expected.Length; i++)
            {
                prefetched[expected[i]] = expectedValues[i];
                prefetchedBytes += expectedValues[i].Length();
            }

            BytesRead(prefetchedBytes);

            var now = time.GetUtcNow();
            var limits = registryOptions.Value;
            var rejected = new Dictionary<string, string>(StringComparer.Ordinal);
            var ids = Admit(members, limits, rejected);

            var records = await ReadHeartbeatsAsync(database, ids, prefetched, limits, cancellationToken);
            var heartbeats = new List<NodeHeartbeat>(ids.Length);
            var gone = new List<string>();
            for (var i = 0; i < ids.Length; i++)
            {
                var (record, length) = records[i];
                if (length == 0)
                {
                    gone.Add(ids[i]);
                }
                else if (length > limits.MaxHeartbeatBytes)
                {
                    _oversized.Add(ids[i]);
                    rejected[ids[i]] = $"its heartbeat is larger than {limits.MaxHeartbeatBytes} bytes (Coordinator:Registry:MaxHeartbeatBytes)";
                }
                else if (ReadHeartbeat(ids[i], record!, now, rejected) is { } heartbeat)
                {
                    heartbeats.Add(heartbeat);
                }
            }

            if (gone.Count > 0)
            {
                // The heartbeat key expired: the node died without deregistering.
                await database.SetRemoveAsync(ClusterKeys.NodeSet, [.. gone.Select(id => (RedisValue)id)]).WaitAsync(cancellationToken);
                LogSwept(gone);
            }

            await ReadNewAsync(database, heartbeats.Select(heartbeat => heartbeat.ToolsHash), _tools, limits.MaxToolsBytes, checks.ReadTools, cancellationToken);
            await ReadNewAsync(database, heartbeats.Select(heartbeat => heartbeat.PrimitivesHash).OfType<string>(), _primitives, limits.MaxPrimitivesBytes, checks.ReadPrimitives, cancellationToken);
            var previous = Current;
            var (nodes, changed) = Follow(previous, heartbeats, rejected);
            if (previous.IsStale && previous.ReadAt != DateTimeOffset.MinValue)
            {
                _beforeOutage = previous.Nodes;
                _recoveredAt = now;
                changed = true;
            }

            changed |= AddNodesYetToHeartbeat(nodes, now);
            var rejections = Reject(rejected, now);
            var next = changed || previous.ReadAt == DateTimeOffset.MinValue
                ? new RegistrySnapshot([.. nodes.OrderBy(node => node.Id, StringComparer.Ordinal)], now, rejected: rejections)
                : previous.ReadAgain(now, rejections);
            Volatile.Write(ref _current, next);
            Forget(members);
            if (changed)
            {
                ReportChanges(previous, next);
            }
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
    /// The members of the node set the registry reads: those with a valid id, at most <see cref="RegistryOptions.MaxNodes"/>
    /// of them, the nodes it already follows first. The others are rejected without being read.
    /// </summary>
    private string[] Admit(string[] members, RegistryOptions limits, Dictionary<string, string> rejected)
    {
        var valid = new List<string>(members.Length);
        foreach (var member in members)
        {
            if (RegistryRecords.IsNodeId(member))
            {
                valid.Add(member);
            }
            else
            {
                rejected[Printable(member)] = "its id is not 1-64 letters, digits, '.', '_' or '-'";
            }
        }

        if (valid.Count <= limits.MaxNodes)
        {
            return [.. valid];
        }

        var current = Current;
        var admitted = valid
            .OrderBy(id => current.Node(id) is null)
            .ThenBy(id => id, StringComparer.Ordinal)
            .Take(limits.MaxNodes)
            .ToHashSet(StringComparer.Ordinal);
        foreach (var id in valid.Where(id => !admitted.Contains(id)))
        {
            rejected[id] = $"the registry already follows Coordinator:Registry:MaxNodes ({limits.MaxNodes}) nodes";
        }

        return [.. admitted];
    }

    /// <summary>
    /// Every heartbeat record, with its length: from <paramref name="prefetched"/>, or in one <c>MGET</c>, but for
    /// records that were too large at an earlier read. Of those only the length is asked for (<c>STRLEN</c>), and the
    /// record is read again once it fits, so an oversized record is downloaded once, not at every refresh. A length of
    /// 0 is a record that is gone.
    /// </summary>
    private async Task<(byte[]? Record, long Length)[]> ReadHeartbeatsAsync(
        IDatabase database, string[] ids, Dictionary<string, RedisValue> prefetched, RegistryOptions limits, CancellationToken cancellationToken)
    {
        var results = new (byte[]? Record, long Length)[ids.Length];
        var wanted = new List<int>();
        var measured = new List<int>();
        var expected = new List<string>(ids.Length);
        for (var i = 0; i < ids.Length; i++)
        {
            if (_oversized.Contains(ids[i]))
            {
                measured.Add(i);
                continue;
            }

            expected.Add(ids[i]);
            if (prefetched.TryGetValue(ids[i], out var value))
            {
                var record = (byte[]?)value;
                results[i] = (record, record?.Length ?? 0);
            }
            else
            {
                wanted.Add(i);
            }
        }

        _expected = [.. expected];
        if (wanted.Count > 0)
        {
            var values = await database.StringGetAsync([.. wanted.Select(i => (RedisKey)ClusterKeys.Heartbeat(ids[i]))]).WaitAsync(cancellationToken);
            for (var n = 0; n < wanted.Count; n++)
            {
                var record = (byte[]?)values[n];
                results[wanted[n]] = (record, record?.Length ?? 0);
            }

            BytesRead(values.Sum(value => value.Length()));
        }

        foreach (var i in measured)
        {
            var length = await database.StringLengthAsync(ClusterKeys.Heartbeat(ids[i])).WaitAsync(cancellationToken);
            if (length is > 0 && length <= limits.MaxHeartbeatBytes)
            {
                var record = (byte[]?)await database.StringGetAsync(ClusterKeys.Heartbeat(ids[i])).WaitAsync(cancellationToken);
                BytesRead(record?.Length ?? 0);
                _oversized.Remove(ids[i]);
                results[i] = (record, record?.Length ?? 0);
            }
            else
            {
                results[i] = (null, length);
            }
        }

        return results;
    }

    /// <summary>The heartbeat in a record, checked unless its bytes are those checked last time; <see langword="null"/> when rejected.</summary>
    private NodeHeartbeat? ReadHeartbeat(string id, byte[] record, DateTimeOffset now, Dictionary<string, string> rejected)
    {
        if (_lastRecords.TryGetValue(id, out var last) && last.Record.AsSpan().SequenceEqual(record))
        {
            // The same bytes: the same answer, but for time, which may have run out since.
            if (last.Heartbeat is { } same && same.SentAt.AddMilliseconds(same.TtlMilliseconds) > now)
            {
                return same;
            }

            if (last.Heartbeat is null)
            {
                rejected[id] = last.Problem!;
                return null;
            }
        }

        string? problem;
        NodeHeartbeat? heartbeat;
        try
        {
            heartbeat = checks.ReadHeartbeat(id, record, now, out problem);
        }
        catch (Exception ex)
        {
            // No record may stop the loop, whatever it holds.
            (heartbeat, problem) = (null, $"it could not be read: {HeartbeatRecord.Shorten(ex.Message)}");
        }

        _lastRecords[id] = new LastRecord(record, heartbeat, problem);
        if (heartbeat is null)
        {
            rejected[id] = problem!;
        }

        return heartbeat;
    }

    /// <summary>Reads the records of every hash not read before, in one round trip.</summary>
    private static async Task ReadNewAsync<T>(
        IDatabase database, IEnumerable<string> hashes, HashedRecords<T> cache, int maxBytes, RecordReader<T> read, CancellationToken cancellationToken)
        where T : class
    {
        var wanted = hashes.Where(hash => !cache.Known.ContainsKey(hash) && !cache.Bad.ContainsKey(hash)).Distinct(StringComparer.Ordinal).ToArray();
        if (wanted.Length == 0)
        {
            return;
        }

        // One byte past the limit tells a record that is too large from one that just fits.
        var reads = wanted.Select(hash => database.StringGetRangeAsync(cache.KeyOf(hash), 0, maxBytes)).ToArray();
        var records = await Task.WhenAll(reads).WaitAsync(cancellationToken);
        BytesRead(records.Sum(record => (long)(((byte[]?)record)?.Length ?? 0)));
        for (var i = 0; i < wanted.Length; i++)
        {
            var record = (byte[]?)records[i] ?? [];
            try
            {
                if (read(wanted[i], record, out var problem, out var lasting) is { } content)
                {
                    cache.Known[wanted[i]] = content;
                }
                else if (lasting)
                {
                    cache.Bad[wanted[i]] = problem!;
                }
                else
                {
                    cache.Missing[wanted[i]] = problem!;
                }
            }
            catch (Exception ex)
            {
                cache.Bad[wanted[i]] = $"a record it names could not be read: {HeartbeatRecord.Shorten(ex.Message)}";
            }
        }
    }

    /// <summary>
    /// The nodes of <paramref name="heartbeats"/> whose tools are known: the node objects of <paramref name="previous"/>
    /// updated in place where only their load changed, new ones otherwise; and whether the set of nodes, a status or
    /// some tools changed.
    /// </summary>
    private (List<RegisteredNode> Nodes, bool Changed) Follow(RegistrySnapshot previous, List<NodeHeartbeat> heartbeats, Dictionary<string, string> rejected)
    {
        var nodes = new List<RegisteredNode>(heartbeats.Count);
        var changed = false;
        _statusChanges.Clear();
        foreach (var heartbeat in heartbeats)
        {
            if (!_tools.Known.TryGetValue(heartbeat.ToolsHash, out var tools))
            {
                rejected[heartbeat.Id] = _tools.Problem(heartbeat.ToolsHash);
                continue;
            }

            var primitives = NodePrimitives.None;
            if (heartbeat.PrimitivesHash is { } hash && !_primitives.Known.TryGetValue(hash, out primitives))
            {
                rejected[heartbeat.Id] = _primitives.Problem(hash);
                continue;
            }

            var known = previous.Node(heartbeat.Id);
            if (known is not null && known.Heartbeat.Status != heartbeat.Status)
            {
                _statusChanges.Add((heartbeat.Id, heartbeat.Status));
                changed = true;
            }

            if (known is not null && known.IsSameNodeAs(heartbeat))
            {
                known.Update(heartbeat);
                nodes.Add(known);
            }
            else
            {
                nodes.Add(new RegisteredNode(heartbeat, tools, primitives));
                changed = true;
            }
        }

        _tools.Missing.Clear();
        _primitives.Missing.Clear();
        return (nodes, changed || nodes.Count != previous.Nodes.Count);
    }

    /// <summary>The rejections of this read, each logged and announced once, when first seen or when its reason changes.</summary>
    private List<RejectedRecord> Reject(Dictionary<string, string> rejected, DateTimeOffset now)
    {
        var list = new List<RejectedRecord>(rejected.Count);
        var announced = new List<RegistryChange>();
        foreach (var (id, reason) in rejected.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            if (_rejected.TryGetValue(id, out var known) && known.Reason == reason)
            {
                list.Add(known);
                continue;
            }

            var record = new RejectedRecord(id, reason, now);
            _rejected[id] = record;
            list.Add(record);
            LogRejected(id, reason);
            RegistryMetrics.Rejections.Add(1);
            announced.Add(new RegistryChange("rejected", id, now, reason));
        }

        foreach (var id in _rejected.Keys.Where(id => !rejected.ContainsKey(id)).ToArray())
        {
            _rejected.Remove(id);
        }

        changes.Publish(announced);
        return list;
    }

    /// <summary>Drops what the registry remembers of records no longer in the node set, and of tools no node names.</summary>
    private void Forget(string[] members)
    {
        var present = members.ToHashSet(StringComparer.Ordinal);
        _oversized.IntersectWith(present);
        foreach (var id in _lastRecords.Keys.Where(id => !present.Contains(id)).ToArray())
        {
            _lastRecords.Remove(id);
        }

        _tools.Retain(_lastRecords.Values.Select(last => last.Heartbeat?.ToolsHash).OfType<string>().ToHashSet(StringComparer.Ordinal));
        _primitives.Retain(_lastRecords.Values.Select(last => last.Heartbeat?.PrimitivesHash).OfType<string>().ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>A member of the node set as it may be shown: at most 64 characters, control characters replaced.</summary>
    private static string Printable(string member)
    {
        var shown = member.Length > 64 ? member[..64] : member;
        return string.Create(shown.Length, shown, (span, text) =>
        {
            for (var i = 0; i < text.Length; i++)
            {
                span[i] = char.IsControl(text[i]) ? '?' : text[i];
            }
        });
    }

    private static void BytesRead(long bytes) => RegistryMetrics.BytesRead.Add(bytes);

    private sealed record LastRecord(byte[] Record, NodeHeartbeat? Heartbeat, string? Problem);

    /// <summary>Reads a content record named by its hash, as <see cref="RegistryRecords"/> does.</summary>
    private delegate T? RecordReader<T>(string hash, ReadOnlySpan<byte> record, out string? problem, out bool lasting);

    /// <summary>The content records of one kind the registry has read, by hash, and those that failed.</summary>
    private sealed class HashedRecords<T>(Func<string, string> keyOf, string notInStore)
    {
        public Func<string, string> KeyOf { get; } = keyOf;

        public Dictionary<string, T> Known { get; } = new(StringComparer.Ordinal);

        /// <summary>Records whose content has its hash but fails the checks: they fail for good.</summary>
        public Dictionary<string, string> Bad { get; } = new(StringComparer.Ordinal);

        /// <summary>Records missing, or not matching their hash, at the last read: read again at the next.</summary>
        public Dictionary<string, string> Missing { get; } = new(StringComparer.Ordinal);

        /// <summary>Why the record of <paramref name="hash"/> is not known.</summary>
        public string Problem(string hash) => Bad.GetValueOrDefault(hash) ?? Missing.GetValueOrDefault(hash) ?? notInStore;

        /// <summary>Forgets the records of hashes no node names any more.</summary>
        public void Retain(HashSet<string> named)
        {
            foreach (var hash in Known.Keys.Concat(Bad.Keys).Where(hash => !named.Contains(hash)).ToArray())
            {
                Known.Remove(hash);
                Bad.Remove(hash);
            }
        }
    }

    /// <summary>
    /// Adds each node of the view before the outage that has not heartbeated since, valid for one of its TTLs from
    /// the store's return: time enough to register again.
    /// </summary>
    private bool AddNodesYetToHeartbeat(List<RegisteredNode> nodes, DateTimeOffset now)
    {
        var added = false;
        foreach (var node in _beforeOutage)
        {
            var until = _recoveredAt.AddMilliseconds(node.Heartbeat.TtlMilliseconds);
            if (until > now && !nodes.Any(seen => seen.Id == node.Id))
            {
                nodes.Add(node.ValidUntil(until));
                added = true;
            }
        }

        if (!added)
        {
            _beforeOutage = [];
        }

        return added;
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

    private void ReportChanges(RegistrySnapshot previous, RegistrySnapshot current)
    {
        var seen = new List<RegistryChange>();
        foreach (var node in current.Nodes.Where(node => previous.Node(node.Id) is null))
        {
            LogJoined(node.Id);
            seen.Add(new RegistryChange("join", node.Id, current.ReadAt));
        }

        foreach (var (id, status) in _statusChanges)
        {
            seen.Add(new RegistryChange(status == NodeStatus.Draining ? "draining" : "ready", id, current.ReadAt));
        }

        foreach (var node in previous.Nodes.Where(node => current.Node(node.Id) is null))
        {
            LogLeft(node.Id);
            seen.Add(new RegistryChange("leave", node.Id, current.ReadAt));
        }

        foreach (var tool in current.Tools)
        {
            if (previous.ServedDefinition(tool.Name) is { } before && current.ServedDefinition(tool.Name) is { } after && !JsonElement.DeepEquals(before, after))
            {
                var servedFrom = current.NodesOffering(tool.Name).Where(node => node.IsReady).Select(node => node.Id).FirstOrDefault() ?? "?";
                var members = ChangedMembers(before, after);
                LogToolChanged(tool.Name, members, servedFrom);
                seen.Add(new RegistryChange("tool-changed", servedFrom, current.ReadAt, $"tool '{tool.Name}' is now served as node '{servedFrom}' defines it; changed: {members}"));
            }
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

    /// <summary>The members of a tool definition that differ between two versions of it, e.g. <c>description, annotations</c>.</summary>
    private static string ChangedMembers(JsonElement before, JsonElement after)
    {
        var names = before.EnumerateObject().Select(member => member.Name)
            .Union(after.EnumerateObject().Select(member => member.Name), StringComparer.Ordinal);
        return string.Join(", ", names.Where(name =>
            before.TryGetProperty(name, out var was) != after.TryGetProperty(name, out var now)
            || (before.TryGetProperty(name, out was) && after.TryGetProperty(name, out now) && !JsonElement.DeepEquals(was, now))));
    }

    [LoggerMessage(EventId = 3010, Level = LogLevel.Warning, Message = "The definition of tool {Tool} changed ({Members}); it is now served as node {ServedFrom} defines it")]
    private partial void LogToolChanged(string tool, string members, string servedFrom);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Warning, Message = "Cluster:Key is not set: the registry takes heartbeats without knowing who wrote them, and calls to nodes carry no credential (nodes that have a key refuse them). Set the same Cluster:Key on the coordinators and the nodes; the AppHost does")]
    private partial void LogUnsigned();

    [LoggerMessage(EventId = 3011, Level = LogLevel.Warning, Message = "The registry record of node {NodeId} is rejected, and no call goes to it: {Reason}")]
    private partial void LogRejected(string nodeId, string reason);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Warning, Message = "Tool {Tool} has another definition on node(s) {OtherNodes}; serving the definition of node {ServedFrom} (the newest version) and routing its calls only to nodes that share it")]
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

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning, Message = "Cannot subscribe to the nodes' announcements yet ({Reason}); the periodic reads go on, and the subscription is tried again")]
    private partial void LogNotSubscribed(string reason);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Error, Message = "Reading the registry failed; routing on the last known nodes")]
    private partial void LogRefreshFailed(Exception error);
}
