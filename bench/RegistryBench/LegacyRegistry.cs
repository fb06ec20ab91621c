using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using McpAspire.Cluster;
using ModelContextProtocol.Protocol;
using StackExchange.Redis;

namespace McpAspire.RegistryBench;

/// <summary>A heartbeat as nodes wrote it before the registry checked records: the full tool definitions in every one.</summary>
internal sealed record LegacyHeartbeat
{
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("mcpUrl")]
    public required Uri McpUrl { get; init; }

    [JsonPropertyName("status")]
    public required string Status { get; init; }

    [JsonPropertyName("inFlight")]
    public int InFlight { get; init; }

    [JsonPropertyName("maxConcurrency")]
    public int MaxConcurrency { get; init; }

    [JsonPropertyName("version")]
    public string? Version { get; init; }

    [JsonPropertyName("packs")]
    public IReadOnlyList<string> Packs { get; init; } = [];

    [JsonPropertyName("tools")]
    public IReadOnlyList<Tool> Tools { get; init; } = [];

    [JsonPropertyName("sentAt")]
    public DateTimeOffset SentAt { get; init; }

    [JsonPropertyName("ttlMs")]
    public long TtlMilliseconds { get; init; }
}

/// <summary>
/// The registry's read path before it checked records (<c>NodeRegistry</c> and <c>RegistrySnapshot</c> at commit
/// 499a3b3), as the reference: every refresh (each second, and at once on a node's announcement) reads the node set
/// and every heartbeat with <c>MGET</c>, parses each heartbeat with all its tool definitions, builds the tool union
/// again: for each tool name, the definition of the ready node with the newest version, the nodes whose schemas
/// match it, and the conflicts.
/// </summary>
internal sealed class LegacyRegistry : IRegistryView, IAsyncDisposable
{
    private readonly IConnectionMultiplexer _redis;
    private readonly Channel<bool> _refresh = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;
    private Snapshot _current = new([], new Dictionary<string, List<LegacyHeartbeat>>(StringComparer.Ordinal), [], 0);
    private long _bytesRead;

    private LegacyRegistry(IConnectionMultiplexer redis) => _redis = redis;

    public static async Task<LegacyRegistry> StartAsync(IConnectionMultiplexer redis, CancellationToken cancellationToken)
    {
        var registry = new LegacyRegistry(redis);
        var events = await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(ClusterKeys.EventsChannel));
        events.OnMessage(_ => registry._refresh.Writer.TryWrite(true));
        registry._loop = registry.RunAsync(CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, registry._stopping.Token).Token);
        return registry;
    }

    public int NodeCount => Volatile.Read(ref _current).Nodes.Count;

    public long BytesRead => Interlocked.Read(ref _bytesRead);

    public bool Routes(string tool)
    {
        var now = DateTimeOffset.UtcNow;
        return Volatile.Read(ref _current).ByTool.TryGetValue(tool, out var nodes)
            && nodes.Any(node => node.Status == NodeStatus.Ready && node.SentAt.AddMilliseconds(node.TtlMilliseconds) > now);
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var ticking = Task.Run(async () =>
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                _refresh.Writer.TryWrite(true);
            }
        }, cancellationToken);
        try
        {
            do
            {
                await RefreshAsync();
                await _refresh.Reader.WaitToReadAsync(cancellationToken);
                _refresh.Reader.TryRead(out _);
            }
            while (!cancellationToken.IsCancellationRequested);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        await ticking.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task RefreshAsync()
    {
        var database = _redis.GetDatabase();
        var ids = (await database.SetMembersAsync(ClusterKeys.NodeSet)).Select(member => member.ToString()).ToArray();
        var values = await database.StringGetAsync([.. ids.Select(id => (RedisKey)ClusterKeys.Heartbeat(id))]);
        var now = DateTimeOffset.UtcNow;
        var nodes = new List<LegacyHeartbeat>(ids.Length);
        for (var i = 0; i < ids.Length; i++)
        {
            if (values[i].IsNull)
            {
                continue;
            }

            var bytes = (byte[])values[i]!;
            Interlocked.Add(ref _bytesRead, bytes.Length);
            var heartbeat = JsonSerializer.Deserialize<LegacyHeartbeat>(bytes, ClusterJson.Options);
            if (heartbeat is { McpUrl.IsAbsoluteUri: true, TtlMilliseconds: > 0 and <= 24 * 60 * 60 * 1000 } && heartbeat.Id == ids[i]
                && heartbeat.SentAt > DateTimeOffset.UnixEpoch
                && heartbeat.Tools.All(tool => tool is { Name: not null, InputSchema.ValueKind: JsonValueKind.Object } && tool.OutputSchema is null or { ValueKind: JsonValueKind.Object })
                && heartbeat.SentAt.AddMilliseconds(heartbeat.TtlMilliseconds) > now)
            {
                nodes.Add(heartbeat);
            }
        }

        Volatile.Write(ref _current, Build([.. nodes.OrderBy(node => node.Id, StringComparer.Ordinal)]));
    }

    /// <summary>The tool union as the registry built it at every read: served definitions, the nodes sharing each, conflicts.</summary>
    private static Snapshot Build(List<LegacyHeartbeat> nodes)
    {
        var byId = nodes.DistinctBy(node => node.Id, StringComparer.Ordinal).ToDictionary(node => node.Id, StringComparer.Ordinal);
        var byTool = new Dictionary<string, List<LegacyHeartbeat>>(StringComparer.Ordinal);
        var tools = new List<Tool>();
        var conflicts = new List<(string Tool, string ServedFrom, string[] Nodes, string[] OtherNodes)>();
        foreach (var definitions in byId.Values.SelectMany(node => node.Tools, (node, tool) => (Node: node, Tool: tool)).GroupBy(pair => pair.Tool.Name, StringComparer.Ordinal))
        {
            var served = definitions
                .OrderByDescending(pair => pair.Node.Status == NodeStatus.Ready)
                .ThenByDescending(pair => VersionOf(pair.Node))
                .ThenBy(pair => pair.Node.Id, StringComparer.Ordinal)
                .First();
            var alike = definitions.Where(pair => SameSchemas(pair.Tool, served.Tool)).Select(pair => pair.Node).ToList();
            byTool[definitions.Key] = alike;
            if (served.Node.Status == NodeStatus.Ready)
            {
                tools.Add(served.Tool);
            }

            if (alike.Count < definitions.Count())
            {
                conflicts.Add((definitions.Key, served.Node.Id, [.. alike.Select(node => node.Id).Order(StringComparer.Ordinal)],
                    [.. definitions.Select(pair => pair.Node.Id).Except(alike.Select(node => node.Id)).Order(StringComparer.Ordinal)]));
            }
        }

        return new Snapshot(nodes, byTool, [.. tools.OrderBy(tool => tool.Name, StringComparer.Ordinal)], conflicts.Count);
    }

    private static Version VersionOf(LegacyHeartbeat node)
    {
        var text = node.Version ?? string.Empty;
        var end = text.IndexOfAny(['-', '+']);
        return Version.TryParse(end < 0 ? text : text[..end], out var version) ? version : new Version(0, 0);
    }

    private static bool SameSchemas(Tool a, Tool b) =>
        JsonElement.DeepEquals(a.InputSchema, b.InputSchema)
        && (a.OutputSchema, b.OutputSchema) switch
        {
            (null, null) => true,
            ({ } left, { } right) => JsonElement.DeepEquals(left, right),
            _ => false,
        };

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _loop;
        _stopping.Dispose();
    }

    private sealed record Snapshot(IReadOnlyList<LegacyHeartbeat> Nodes, Dictionary<string, List<LegacyHeartbeat>> ByTool, IReadOnlyList<Tool> Tools, int Conflicts);
}
