using System.Text.Json;
using System.Threading.Channels;
using McpAspire.Cluster;
using McpAspire.Cluster.Security;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace McpAspire.McpNode.Services;

/// <summary>
/// Registers the node in Redis and refreshes its heartbeat every <see cref="NodeOptions.HeartbeatInterval"/>
/// with a TTL, so a node that dies silently disappears from the registry by itself. The heartbeat is signed with the
/// cluster key when there is one (<see cref="HeartbeatRecord"/>), and names the node's tool definitions by their hash:
/// the definitions record (<see cref="ToolCatalog"/>) is written before the first heartbeat, its expiry pushed back
/// with each heartbeat, and written again only if it went missing. On a clean stop,
/// it publishes <c>draining</c> at once (the host's stopping phase, before any service stops), keeps
/// publishing while Kestrel lets the calls in flight finish, and deregisters when everything has stopped.
/// Before each heartbeat it looks for the node's <see cref="ClusterKeys.DrainRequest"/>: while that key exists
/// the node drains without stopping, and once it is gone the node takes calls again. Each of these changes is
/// also announced on <see cref="ClusterKeys.EventsChannel"/>, so coordinators see it at once rather than at
/// their next refresh.
/// </summary>
public sealed partial class HeartbeatPublisher(
    IConnectionMultiplexer redis,
    ClusterKeyRing keys,
    NodeDescriptor node,
    NodeLoad load,
    IOptions<NodeOptions> options,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<HeartbeatPublisher> logger) : BackgroundService, IHostedLifecycleService
{
    private readonly string _store = ClusterStore.Describe(redis);
    private readonly Lock _registration = new();
    // Never disposed: a host that is stopped twice may still be deregistering as it disposes its services,
    // and a semaphore that never hands out its wait handle holds nothing to release.
    private readonly SemaphoreSlim _deregistering = new(1, 1);
    private readonly Channel<bool> _offerChanged = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private string? _recordsWritten;
    private bool _published;
    private bool _announced;
    private bool _stopped;
    private bool _deregistered;

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!await WaitForStartAsync(lifetime, stoppingToken))
        {
            return;
        }

        if (node.McpUrl is null)
        {
            LogNoUrl();
            return;
        }

        // What the node offers can change while it runs (the stdio bridge): the records and a heartbeat naming them go
        // out at once, not at the next tick.
        node.Changed += OnOfferChanged;
        try
        {
            using var timer = new PeriodicTimer(options.Value.HeartbeatInterval, time);
            var tick = timer.WaitForNextTickAsync(stoppingToken).AsTask();
            var changed = _offerChanged.Reader.WaitToReadAsync(stoppingToken).AsTask();
            do
            {
                await PublishAsync(stoppingToken);
                if (await Task.WhenAny(tick, changed) == tick)
                {
                    if (!await tick)
                    {
                        break;
                    }

                    tick = timer.WaitForNextTickAsync(stoppingToken).AsTask();
                }
                else
                {
                    // Each wait is made again only once it has ended, so none is left behind at every tick.
                    _offerChanged.Reader.TryRead(out _);
                    changed = _offerChanged.Reader.WaitToReadAsync(stoppingToken).AsTask();
                }
            }
            while (!stoppingToken.IsCancellationRequested);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            node.Changed -= OnOfferChanged;
        }
    }

    private void OnOfferChanged() => _offerChanged.Writer.TryWrite(true);

    /// <summary>Builds the heartbeat as it is now.</summary>
    public NodeHeartbeat Snapshot() => Snapshot(node.Current);

    private NodeHeartbeat Snapshot(NodeDescriptor.Offer offer) => new()
    {
        Id = node.Id,
        McpUrl = node.McpUrl ?? throw new InvalidOperationException("The node's MCP URL is not known before the server starts."),
        Status = load.IsDraining ? NodeStatus.Draining : NodeStatus.Ready,
        InFlight = load.Load,
        MaxConcurrency = load.MaxConcurrency,
        Version = node.Version,
        Packs = node.Packs,
        ToolsHash = offer.Catalog.Hash,
        ToolCount = offer.Catalog.Count,
        PrimitivesHash = offer.Primitives?.Hash,
        SentAt = time.GetUtcNow(),
        TtlMilliseconds = (long)options.Value.HeartbeatTtl.TotalMilliseconds,
    };

    private async Task PublishAsync(CancellationToken cancellationToken)
    {
        try
        {
            var drainChange = await FollowDrainRequestAsync(cancellationToken);
            var offer = node.Current;
            var offerChanged = _recordsWritten is not null && _recordsWritten != offer.Catalog.Hash + offer.Primitives?.Hash;
            if (_recordsWritten != offer.Catalog.Hash + offer.Primitives?.Hash)
            {
                // Before the first heartbeat that names them, so no coordinator looks for definitions not there yet.
                await WriteRecordsAsync(offer, cancellationToken);
            }

            var heartbeat = HeartbeatRecord.Write(Snapshot(offer), keys);
            var key = ClusterKeys.Heartbeat(node.Id);
            Task sent;
            Task<bool> toolsKept;
            lock (_registration)
            {
                // Once stopped, never register again: a heartbeat sent after the deregistration would keep a stopped
                // node in the node set. Commands go out in order on one connection, so the check and the sending belong together.
                if (_stopped)
                {
                    return;
                }

                // Set before sending: once the commands may have reached the server, stopping must deregister.
                _published = true;
                var database = redis.GetDatabase();
                toolsKept = BothAsync(
                    database.KeyExpireAsync(ClusterKeys.Tools(offer.Catalog.Hash), ToolsTtl),
                    offer.Primitives is { } primitives ? database.KeyExpireAsync(ClusterKeys.Primitives(primitives.Hash), ToolsTtl) : Task.FromResult(true));
                sent = Task.WhenAll(
                    toolsKept,
                    database.StringSetAsync(key, heartbeat, options.Value.HeartbeatTtl),
                    database.SetAddAsync(ClusterKeys.NodeSet, node.Id));
            }

            await sent.WaitAsync(cancellationToken);
            if (!await toolsKept)
            {
                // A record expired or the store lost it (a restart without persistence): write them again.
                await WriteRecordsAsync(offer, cancellationToken);
            }

            if (!_announced)
            {
                _announced = true;
                LogRegistered(node.Id, node.McpUrl!, _store);
                await AnnounceAsync(RegistryEvent.Joined, cancellationToken);
            }
            else if (drainChange is not null)
            {
                await AnnounceAsync(drainChange, cancellationToken);
            }

            if (offerChanged)
            {
                LogOfferChanged(node.Id, offer.Catalog.Count);
                await AnnounceAsync(RegistryEvent.OfferChanged, cancellationToken);
            }
        }
        catch (Exception ex) when (ClusterStore.IsStoreFailure(ex, cancellationToken))
        {
            // The next tick retries; meanwhile the node keeps serving and its TTL runs down.
            LogPublishFailed(node.Id, ex.Message);
        }
    }

    /// <summary>
    /// How long a tool definitions record outlives the last heartbeat that named it: long enough that a coordinator
    /// reading a heartbeat finds it, short enough that the records of nodes long gone do not pile up.
    /// </summary>
    private TimeSpan ToolsTtl => options.Value.HeartbeatTtl * 10;

    /// <summary>Writes the tool definitions record, and the record of resources, templates and prompts when there is one.</summary>
    private async Task WriteRecordsAsync(NodeDescriptor.Offer offer, CancellationToken cancellationToken)
    {
        var database = redis.GetDatabase();
        await Task.WhenAll(
            database.StringSetAsync(ClusterKeys.Tools(offer.Catalog.Hash), offer.Catalog.Json, ToolsTtl),
            offer.Primitives is { } primitives ? database.StringSetAsync(ClusterKeys.Primitives(primitives.Hash), primitives.Json, ToolsTtl) : Task.CompletedTask).WaitAsync(cancellationToken);
        _recordsWritten = offer.Catalog.Hash + offer.Primitives?.Hash;
    }

    private static async Task<bool> BothAsync(Task<bool> first, Task<bool> second) => await first & await second;

    /// <summary>
    /// Drains or resumes as the node's drain key says; returns the event to announce when that changed anything.
    /// While the store cannot be read, the node keeps its current state.
    /// </summary>
    private async Task<string?> FollowDrainRequestAsync(CancellationToken cancellationToken)
    {
        var requested = await redis.GetDatabase().KeyExistsAsync(ClusterKeys.DrainRequest(node.Id)).WaitAsync(cancellationToken);
        if (requested == load.IsDrainRequested)
        {
            return null;
        }

        load.SetDrainRequested(requested);
        if (requested)
        {
            LogDrainRequested(node.Id, load.Load);
            return RegistryEvent.Draining;
        }

        LogResumed(node.Id);
        return RegistryEvent.Resumed;
    }

    /// <inheritdoc/>
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// The host is stopping, and <see cref="NodeLoad"/> has begun draining: publish <c>draining</c> at once, so
    /// the coordinator routes elsewhere while the calls in flight finish. Heartbeats go on until <see cref="StoppedAsync"/>.
    /// </summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        LogDraining(node.Id, load.Load);
        if (_published)
        {
            await PublishAsync(cancellationToken);
            await AnnounceAsync(RegistryEvent.Draining, cancellationToken);
        }
    }

    /// <summary>Keeps heartbeats going while Kestrel drains; <see cref="StoppedAsync"/> ends them.</summary>
    public override Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Every service has stopped and the calls in flight are done: stop publishing and deregister, once. The
    /// host's token may already be cancelled here (its shutdown timeout ran out), so neither step uses it: the
    /// loop ends at once when told to, and each command is bounded by the client's timeout.
    /// </summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(CancellationToken.None);
        lock (_registration)
        {
            _stopped = true;
        }

        // The host may be stopped more than once, even concurrently (a test host is, as it is disposed):
        // deregister one at a time, and until it has succeeded once.
        await _deregistering.WaitAsync(CancellationToken.None);
        try
        {
            if (_published && !_deregistered)
            {
                var database = redis.GetDatabase();
                await database.KeyDeleteAsync(ClusterKeys.Heartbeat(node.Id));
                await database.SetRemoveAsync(ClusterKeys.NodeSet, node.Id);
                _deregistered = true;
                LogDeregistered(node.Id);
                await AnnounceAsync(RegistryEvent.Left, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ClusterStore.IsStoreFailure(ex, CancellationToken.None))
        {
            // The heartbeat's TTL removes the node anyway.
            LogDeregisterFailed(node.Id, ex.Message);
        }
        finally
        {
            _deregistering.Release();
        }
    }

    /// <summary>Announces a registration change; a coordinator that misses it sees the change at its next refresh.</summary>
    private async Task AnnounceAsync(string change, CancellationToken cancellationToken)
    {
        try
        {
            await redis.GetSubscriber()
                .PublishAsync(RedisChannel.Literal(ClusterKeys.EventsChannel), JsonSerializer.SerializeToUtf8Bytes(new RegistryEvent(change, node.Id), ClusterJson.Options))
                .WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ClusterStore.IsStoreFailure(ex, cancellationToken))
        {
            LogAnnounceFailed(node.Id, change, ex.Message);
        }
    }

    private static async Task<bool> WaitForStartAsync(IHostApplicationLifetime lifetime, CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        using var onStopping = stoppingToken.Register(() => started.TrySetCanceled(stoppingToken));
        try
        {
            await started.Task;
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Node {NodeId} registered at {McpUrl} in Redis at {Redis}; heartbeats follow")]
    private partial void LogRegistered(string nodeId, Uri mcpUrl, string redis);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Heartbeat of node {NodeId} failed: {Reason}")]
    private partial void LogPublishFailed(string nodeId, string reason);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "Node {NodeId} is draining: {Calls} call(s) to finish, no new ones taken")]
    private partial void LogDraining(string nodeId, int calls);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Node {NodeId} deregistered")]
    private partial void LogDeregistered(string nodeId);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Node {NodeId} could not deregister ({Reason}); its heartbeat will expire instead")]
    private partial void LogDeregisterFailed(string nodeId, string reason);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Information, Message = "Node {NodeId} was asked to drain: {Calls} call(s) to finish, no new ones taken until the request is withdrawn")]
    private partial void LogDrainRequested(string nodeId, int calls);

    [LoggerMessage(EventId = 2009, Level = LogLevel.Information, Message = "Node {NodeId} takes calls again: its drain request was withdrawn")]
    private partial void LogResumed(string nodeId);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "Node {NodeId} now offers {ToolCount} tool(s); its registry records are renewed")]
    private partial void LogOfferChanged(string nodeId, int toolCount);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Error, Message = "The node's MCP URL is unknown (no server address and no Node:PublicUrl); it will not register")]
    private partial void LogNoUrl();

    [LoggerMessage(EventId = 2007, Level = LogLevel.Warning, Message = "Node {NodeId} could not announce '{Event}' ({Reason}); coordinators see it at their next refresh")]
    private partial void LogAnnounceFailed(string nodeId, string @event, string reason);
}
