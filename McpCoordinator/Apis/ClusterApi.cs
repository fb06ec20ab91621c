using System.Text.Json;
using System.Text.Json.Serialization;
using McpAspire.Mcp;
using McpAspire.McpCoordinator.Federation;
using McpAspire.McpCoordinator.Registry;
using McpAspire.McpCoordinator.Routing;
using McpAspire.McpCoordinator.Security;

namespace McpAspire.McpCoordinator.Apis;

/// <summary>The cluster API: what the coordinator knows about the nodes.</summary>
public static class ClusterApi
{
    /// <summary>How often an idle event stream carries a comment, so proxies do not close it.</summary>
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(15);

    /// <summary>Maps <c>GET /api/nodes</c> and <c>GET /api/events</c>; once authentication is configured, only admins may read them.</summary>
    public static IEndpointRouteBuilder MapClusterApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var api = endpoints.MapGroup("/api").RequireCaller(endpoints.ServiceProvider, CoordinatorSecurity.AdminPolicy);
        api.MapGet("/nodes", GetNodes);
        api.MapGet("/events", StreamEventsAsync);
        return endpoints;
    }

    /// <summary>
    /// Server-Sent Events of registry changes: first a <c>snapshot</c> event with the nodes as <c>/api/nodes</c>
    /// lists them, then an event per change (<c>join</c>, <c>leave</c>, <c>draining</c>, <c>ready</c>,
    /// <c>stale</c>, <c>recovered</c>, <c>rejected</c>, <c>tool-changed</c>). The stream ends when the coordinator stops, or when the client falls
    /// <see cref="RegistryChanges.Capacity"/> changes behind; reconnecting starts from a new snapshot.
    /// </summary>
    public static async Task StreamEventsAsync(
        HttpContext context, NodeRegistry registry, LocalCallTracker calls, NodeBreakers breakers, ExternalServerMonitor servers, RegistryChanges changes, TimeProvider time, IHostApplicationLifetime lifetime)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(changes);
        ArgumentNullException.ThrowIfNull(lifetime);
        using var subscription = changes.Listen();
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        McpHttpResponses.PrepareEventStream(context.Response);
        try
        {
            await WriteEventAsync(context.Response, "snapshot", GetNodes(registry, calls, breakers, servers, time), typeof(NodesResponse), ending.Token);
            while (true)
            {
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(ending.Token);
                quiet.CancelAfter(KeepAliveInterval);
                try
                {
                    if (!await subscription.Reader.WaitToReadAsync(quiet.Token))
                    {
                        return;
                    }
                }
                catch (OperationCanceledException) when (!ending.IsCancellationRequested)
                {
                    await context.Response.WriteAsync(": keep-alive\n\n", ending.Token);
                    await context.Response.Body.FlushAsync(ending.Token);
                    continue;
                }

                while (subscription.Reader.TryRead(out var change))
                {
                    await WriteEventAsync(context.Response, change.Type, change, typeof(RegistryChange), ending.Token);
                }
            }
        }
        catch (OperationCanceledException) when (ending.IsCancellationRequested)
        {
            // The client went away, or the coordinator is stopping.
        }
    }

    private static async Task WriteEventAsync(HttpResponse response, string type, object data, Type dataType, CancellationToken cancellationToken)
    {
        await response.WriteAsync($"event: {type}\ndata: ", cancellationToken);
        await JsonSerializer.SerializeAsync(response.Body, data, dataType, EventJson, cancellationToken);
        await response.WriteAsync("\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private static readonly JsonSerializerOptions EventJson = new(JsonSerializerDefaults.Web);

    /// <summary>The most rejected records <c>/api/nodes</c> lists; <see cref="NodesResponse.RejectedCount"/> counts them all.</summary>
    public const int MaxRejectedShown = 100;

    /// <summary>The registry as JSON: each node with status, load, tools, heartbeat age, calls routed and breaker state.</summary>
    public static NodesResponse GetNodes(NodeRegistry registry, LocalCallTracker calls, NodeBreakers breakers, ExternalServerMonitor servers, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentNullException.ThrowIfNull(breakers);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(calls);
        ArgumentNullException.ThrowIfNull(time);
        var snapshot = registry.Current;
        var now = time.GetUtcNow();
        return new NodesResponse(
            snapshot.IsStale,
            snapshot.StaleReason,
            snapshot.ReadAt == DateTimeOffset.MinValue ? null : snapshot.ReadAt,
            snapshot.Conflicts,
            [.. snapshot.Nodes.Select(node => new NodeView(
                node.Id,
                node.Heartbeat.McpUrl,
                node.Heartbeat.Status,
                node.Heartbeat.InFlight,
                calls.InFlight(node.Id),
                node.Heartbeat.MaxConcurrency,
                node.Heartbeat.Version,
                node.Heartbeat.Packs,
                [.. node.Tools.Tools.Select(tool => tool.Name).Order(StringComparer.Ordinal)],
                (long)(now - node.Heartbeat.SentAt).TotalMilliseconds,
                calls.Routed(node.Id),
                breakers.StateOf(node.Id),
                node.Server))],
            [.. snapshot.Rejected.Take(MaxRejectedShown)],
            snapshot.Rejected.Count,
            [.. servers.States.Values.OrderBy(state => state.Name, StringComparer.Ordinal).Select(state => new ServerView(
                state.Name,
                UpstreamServers.NodeIdOf(state.Name),
                snapshot.Node(UpstreamServers.NodeIdOf(state.Name)) is not null,
                state.IsProbing,
                state.IsProbing ? state.Since : null,
                state.IsProbing ? state.Reason : null))]);
    }
}

/// <summary>The body of <c>GET /api/nodes</c>.</summary>
/// <param name="Stale">Whether Redis could not be read at the last refresh, so this is an older view.</param>
/// <param name="StaleReason">Why the view is stale.</param>
/// <param name="ReadAt">When the nodes were last read from Redis.</param>
/// <param name="Conflicts">Tools that nodes define differently, and which definition is served.</param>
/// <param name="Nodes">The live nodes.</param>
/// <param name="Rejected">Registry records that get no calls, with the reason (at most <see cref="ClusterApi.MaxRejectedShown"/>).</param>
/// <param name="RejectedCount">How many records were rejected in all.</param>
/// <param name="Servers">The external MCP servers configured (<c>Coordinator:Servers</c>).</param>
public sealed record NodesResponse(
    bool Stale,
    string? StaleReason,
    DateTimeOffset? ReadAt,
    IReadOnlyList<ToolConflict> Conflicts,
    IReadOnlyList<NodeView> Nodes,
    IReadOnlyList<RejectedRecord> Rejected,
    int RejectedCount,
    IReadOnlyList<ServerView> Servers);

/// <summary>One external MCP server in <c>GET /api/nodes</c>.</summary>
/// <param name="Name">Its name in <c>Coordinator:Servers</c>.</param>
/// <param name="Id">Its id among the nodes, while it is up.</param>
/// <param name="Up">Whether its record is in the registry: the last probe reached it, and its tools are served.</param>
/// <param name="ProbedHere">Whether this replica probes it; another one does otherwise, and logs what it finds.</param>
/// <param name="Since">When this replica saw it come up or go down (only while it probes it).</param>
/// <param name="Reason">Why the last probe failed, while it is down (only while this replica probes it).</param>
public sealed record ServerView(string Name, string Id, bool Up, bool ProbedHere, DateTimeOffset? Since, string? Reason);

/// <summary>One node in <c>GET /api/nodes</c>.</summary>
/// <param name="Id">The node's id.</param>
/// <param name="McpUrl">Its MCP endpoint.</param>
/// <param name="Status">ready or draining.</param>
/// <param name="InFlight">The calls it reported in flight at its last heartbeat.</param>
/// <param name="CoordinatorInFlight">The calls this coordinator has in flight to it now.</param>
/// <param name="MaxConcurrency">How many calls it runs at once.</param>
/// <param name="Version">Its version.</param>
/// <param name="Packs">Its tool packs.</param>
/// <param name="Tools">Its tool names.</param>
/// <param name="HeartbeatAgeMs">How old its last heartbeat is.</param>
/// <param name="CallsRouted">How many calls this coordinator has routed to it.</param>
/// <param name="Breaker">Its circuit breaker in this coordinator: closed, open or half-open.</param>
/// <param name="Server">For an external MCP server, its name in <c>Coordinator:Servers</c>; absent for a node of the cluster.</param>
public sealed record NodeView(
    string Id,
    Uri McpUrl,
    string Status,
    int InFlight,
    int CoordinatorInFlight,
    int MaxConcurrency,
    string? Version,
    IReadOnlyList<string> Packs,
    IReadOnlyList<string> Tools,
    long HeartbeatAgeMs,
    long CallsRouted,
    string Breaker,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Server);
