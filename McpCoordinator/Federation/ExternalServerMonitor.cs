using System.Collections.Concurrent;
using System.Text.Json;
using McpAspire.Cluster;
using McpAspire.Cluster.Security;
using McpAspire.McpCoordinator.Registry;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using StackExchange.Redis;

namespace McpAspire.McpCoordinator.Federation;

/// <summary>
/// Puts the external servers in the registry. For each server, one coordinator replica at a time (the holder of a
/// lease in the store) probes it every <see cref="ExternalServerOptions.HealthInterval"/>: it lists the server's
/// tools when it first reaches it, after its session was renewed and whenever the server says they changed, and
/// pings it otherwise. While the server answers, the replica keeps a heartbeat record for it, as a node keeps its
/// own: signed with the cluster key, naming the served tools (filtered and prefixed) by hash. When a probe fails,
/// it withdraws the record at once, so every replica stops routing there; when the server answers again, the
/// record is back. A replica that stops hands the lease back, and another takes it at its next probe; one that
/// dies keeps it until it runs out, three intervals, as long as the record it wrote lasts.
/// </summary>
public sealed partial class ExternalServerMonitor(
    UpstreamServers upstreams,
    IConnectionMultiplexer redis,
    ClusterKeyRing keys,
    IOptions<RegistryOptions> registryOptions,
    TimeProvider time,
    ILogger<ExternalServerMonitor> logger) : BackgroundService
{
    /// <summary>The pack external servers' tools are in, for authorization rules: <c>server.{name}</c>.</summary>
    public static string PackOf(string server) => $"server.{server}";

    private const string LeaseScript = """
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
        if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
        return 0
        """;

    private const string ReleaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """;

    private readonly string _replica = Guid.NewGuid().ToString("N");
    private readonly ConcurrentDictionary<string, ServerProbeState> _states = new(StringComparer.Ordinal);

    /// <summary>What this replica last saw of each server it probes.</summary>
    public IReadOnlyDictionary<string, ServerProbeState> States => _states;

    /// <inheritdoc/>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(upstreams.Names.Select(name => WatchAsync(name, stoppingToken)));

    private async Task WatchAsync(string name, CancellationToken stoppingToken)
    {
        var settings = upstreams.Settings(name)!;
        var lease = settings.HealthInterval * 3;
        var state = _states[name] = new ServerProbeState(name);
        using var wake = new SemaphoreSlim(0);
        void OnListsChanged(string server)
        {
            if (server == name)
            {
                state.ListsChanged = true;
                wake.Release();
            }
        }

        upstreams.ListsChanged += OnListsChanged;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                state.IsProbing = await LeadAsync(name, lease);
                if (state.IsProbing)
                {
                    await ProbeAsync(name, settings, state, stoppingToken);
                }

                try
                {
                    await wake.WaitAsync(settings.HealthInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    // Stopping.
                }
            }
        }
        finally
        {
            upstreams.ListsChanged -= OnListsChanged;
            if (state.IsProbing)
            {
                // The server is as up as it was: its record stays until it runs out, and by then another replica,
                // free to take the lease at once, has renewed it.
                await ReleaseAsync(name);
            }
        }
    }

    /// <summary>Whether this replica holds (or has just taken) the lease to probe <paramref name="name"/>.</summary>
    private async Task<bool> LeadAsync(string name, TimeSpan lease)
    {
        try
        {
            var held = await redis.GetDatabase().ScriptEvaluateAsync(LeaseScript, [ClusterKeys.ServerLease(name)], [_replica, (long)lease.TotalMilliseconds]);
            return (long)held == 1;
        }
        catch (Exception ex) when (ClusterStore.IsStoreFailure(ex))
        {
            // Without the store no record can be written anyway; the registry keeps its last view.
            LogLeaseFailed(name, ex.Message);
            return false;
        }
    }

    private async Task ReleaseAsync(string name)
    {
        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(ReleaseScript, [ClusterKeys.ServerLease(name)], [_replica]);
        }
        catch (Exception ex) when (ClusterStore.IsStoreFailure(ex))
        {
            LogLeaseFailed(name, ex.Message);
        }
    }

    private async Task ProbeAsync(string name, ExternalServerOptions settings, ServerProbeState state, CancellationToken stoppingToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(UpstreamServers.ConnectTimeout);
        McpClient? client = null;
        try
        {
            client = await upstreams.ClientAsync(name, timeout.Token);
            if (state.Catalog is null || state.ListsChanged || state.Session != client)
            {
                state.ListsChanged = false;
                var listed = await client.ListToolsAsync(cancellationToken: timeout.Token);
                state.Catalog = ToolCatalog.Of(Served(name, settings, listed.Select(tool => tool.ProtocolTool)));
                state.Primitives = await ListPrimitivesAsync(client, settings, timeout.Token);
                state.Session = client;
                state.ServerVersion = VersionOf(client.ServerInfo);
            }
            else
            {
                await client.PingAsync(cancellationToken: timeout.Token);
            }
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            if (client is not null)
            {
                upstreams.Reset(name, client);
            }

            state.Session = null;
            await WithdrawAsync(name, state, UpstreamServers.Describe(ex));
            return;
        }

        await RecordAsync(name, settings, state);
    }

    /// <summary>
    /// The server's tools as the cluster serves them: only those <see cref="ExternalServerOptions.AllowTools"/> and
    /// <see cref="ExternalServerOptions.DenyTools"/> let through, under their prefixed names, each naming its server
    /// as its pack (replacing any pack the server claimed).
    /// </summary>
    public static IReadOnlyList<Tool> Served(string name, ExternalServerOptions settings, IEnumerable<Tool> tools)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(tools);
        var served = new List<Tool>();
        foreach (var tool in tools)
        {
            if (settings.ExposedName(tool.Name) is not { } exposed)
            {
                continue;
            }

            served.Add(ToolCatalog.Renamed(tool, exposed, PackOf(name)));
        }

        return [.. served.OrderBy(tool => tool.Name, StringComparer.Ordinal)];
    }

    /// <summary>The server's resources, resource templates and prompts, as far as it declares them; <see langword="null"/> when it has none.</summary>
    private async Task<PrimitiveCatalog?> ListPrimitivesAsync(McpClient client, ExternalServerOptions settings, CancellationToken cancellationToken)
    {
        var capabilities = client.ServerCapabilities;
        IEnumerable<Resource> resources = [];
        IEnumerable<ResourceTemplate> templates = [];
        IEnumerable<Prompt> prompts = [];
        if (capabilities.Resources is not null)
        {
            resources = (await client.ListResourcesAsync(cancellationToken: cancellationToken)).Select(resource => resource.ProtocolResource);
            templates = (await client.ListResourceTemplatesAsync(cancellationToken: cancellationToken)).Select(template => template.ProtocolResourceTemplate);
        }

        if (capabilities.Prompts is not null)
        {
            prompts = (await client.ListPromptsAsync(cancellationToken: cancellationToken)).Select(prompt => prompt.ProtocolPrompt);
        }

        var catalog = ServedPrimitives(settings, resources, templates, prompts, registryOptions.Value.MaxPrimitivesPerNode);
        return catalog.Count == 0 ? null : catalog;
    }

    /// <summary>
    /// The server's resources, templates and prompts as the cluster serves them: those the registry takes (valid,
    /// unique, at most <paramref name="max"/> of each, in key order), prompts under prefixed names like its tools.
    /// </summary>
    public static PrimitiveCatalog ServedPrimitives(
        ExternalServerOptions settings, IEnumerable<Resource> resources, IEnumerable<ResourceTemplate> templates, IEnumerable<Prompt> prompts, int max)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return PrimitiveCatalog.Of(
            [.. resources.Where(resource => RegistryRecords.IsResourceUri(resource.Uri)).DistinctBy(resource => resource.Uri).OrderBy(resource => resource.Uri, StringComparer.Ordinal).Take(max)],
            [.. templates.Where(template => UriTemplatePattern.Compile(template.UriTemplate) is not null).DistinctBy(template => template.UriTemplate)
                .OrderBy(template => template.UriTemplate, StringComparer.Ordinal).Take(max)],
            [.. prompts.Select(prompt => (Prompt: prompt, Name: settings.Prefix + prompt.Name)).Where(entry => RegistryRecords.IsToolName(entry.Name)).DistinctBy(entry => entry.Name)
                .OrderBy(entry => entry.Name, StringComparer.Ordinal).Take(max).Select(entry => ToolCatalog.Renamed(entry.Prompt, entry.Name))]);
    }

    private async Task RecordAsync(string name, ExternalServerOptions settings, ServerProbeState state)
    {
        var catalog = state.Catalog!;
        var ttl = settings.HealthInterval * 3;
        var heartbeat = new NodeHeartbeat
        {
            Id = UpstreamServers.NodeIdOf(name),
            McpUrl = settings.Url!,
            Status = NodeStatus.Ready,
            MaxConcurrency = settings.MaxConcurrentCalls,
            Version = state.ServerVersion,
            ToolsHash = catalog.Hash,
            ToolCount = catalog.Count,
            PrimitivesHash = state.Primitives?.Hash,
            Server = name,
            SentAt = time.GetUtcNow(),
            TtlMilliseconds = (long)ttl.TotalMilliseconds,
        };
        try
        {
            var database = redis.GetDatabase();
            await database.StringSetAsync(ClusterKeys.Tools(catalog.Hash), catalog.Json, ttl * 10);
            if (state.Primitives is { } primitives)
            {
                await database.StringSetAsync(ClusterKeys.Primitives(primitives.Hash), primitives.Json, ttl * 10);
            }

            await Task.WhenAll(
                database.StringSetAsync(ClusterKeys.Heartbeat(heartbeat.Id), HeartbeatRecord.Write(heartbeat, keys), ttl),
                database.SetAddAsync(ClusterKeys.NodeSet, heartbeat.Id));
            if (!state.IsUp)
            {
                state.MarkUp(time.GetUtcNow());
                LogUp(name, catalog.Count);
                await AnnounceAsync(RegistryEvent.Joined, heartbeat.Id);
            }
        }
        catch (Exception ex) when (ClusterStore.IsStoreFailure(ex))
        {
            LogRecordFailed(name, ex.Message);
        }
    }

    /// <summary>Takes the server's record out of the registry, so no replica routes there; <paramref name="reason"/> is why.</summary>
    private async Task WithdrawAsync(string name, ServerProbeState state, string reason)
    {
        var wasUp = state.IsUp;
        if (state.MarkDown(time.GetUtcNow(), reason))
        {
            LogDown(name, reason);
        }

        if (!wasUp)
        {
            return;
        }

        try
        {
            var id = UpstreamServers.NodeIdOf(name);
            var database = redis.GetDatabase();
            await Task.WhenAll(database.KeyDeleteAsync(ClusterKeys.Heartbeat(id)), database.SetRemoveAsync(ClusterKeys.NodeSet, id));
            await AnnounceAsync(RegistryEvent.Left, id);
        }
        catch (Exception ex) when (ClusterStore.IsStoreFailure(ex))
        {
            // The record runs out with its TTL.
            LogRecordFailed(name, ex.Message);
        }
    }

    private Task<long> AnnounceAsync(string change, string id) =>
        redis.GetSubscriber().PublishAsync(RedisChannel.Literal(ClusterKeys.EventsChannel), JsonSerializer.SerializeToUtf8Bytes(new RegistryEvent(change, id), ClusterJson.Options));

    /// <summary>The server's version as a registry record may carry it, or <see langword="null"/> when it has none that fits.</summary>
    private static string? VersionOf(Implementation? server) =>
        server?.Version is { Length: > 0 and <= 64 } version && version.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '+' or '-') ? version : null;

    [LoggerMessage(EventId = 3201, Level = LogLevel.Information, Message = "External server {Server} is up; serving {ToolCount} of its tools")]
    private partial void LogUp(string server, int toolCount);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Warning, Message = "External server {Server} failed its probe ({Reason}); its tools are withdrawn until it answers again")]
    private partial void LogDown(string server, string reason);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Warning, Message = "Cannot take or keep the lease to probe external server {Server} ({Reason})")]
    private partial void LogLeaseFailed(string server, string reason);

    [LoggerMessage(EventId = 3204, Level = LogLevel.Warning, Message = "Cannot write the registry record of external server {Server} ({Reason})")]
    private partial void LogRecordFailed(string server, string reason);
}

/// <summary>What one replica last saw of an external server it probes.</summary>
public sealed class ServerProbeState(string name)
{
    /// <summary>The server's name.</summary>
    public string Name { get; } = name;

    /// <summary>Whether this replica holds the lease and probes the server.</summary>
    public bool IsProbing { get; internal set; }

    /// <summary>Whether the server answered the last probe, and its record is in the registry.</summary>
    public bool IsUp { get; private set; }

    /// <summary>Since when the server has been up or down.</summary>
    public DateTimeOffset? Since { get; private set; }

    /// <summary>Why the last probe failed, while the server is down.</summary>
    public string? Reason { get; private set; }

    internal ToolCatalog? Catalog { get; set; }

    internal PrimitiveCatalog? Primitives { get; set; }

    internal McpClient? Session { get; set; }

    internal string? ServerVersion { get; set; }

    internal volatile bool ListsChanged;

    internal void MarkUp(DateTimeOffset now) => (IsUp, Since, Reason) = (true, now, null);

    /// <summary>Marks the server down for <paramref name="reason"/>; whether that is news (it was up, or failed otherwise), worth a log line.</summary>
    internal bool MarkDown(DateTimeOffset now, string reason)
    {
        var changed = IsUp || Reason != reason;
        if (changed)
        {
            Since = now;
        }

        (IsUp, Reason) = (false, reason);
        return changed;
    }
}
