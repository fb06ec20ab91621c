using McpAspire.Cluster;
using ModelContextProtocol.Protocol;

namespace McpAspire.McpCoordinator.Registry;

/// <summary>
/// A node as the registry last saw it. Its identity (URL, version, packs, tools) is fixed; a later heartbeat that
/// changes only its load or send time updates it in place (<see cref="Update"/>), so the registry's work on a
/// heartbeat that changes nothing else is independent of the node's tools.
/// </summary>
public sealed class RegisteredNode
{
    private Live _live;

    /// <summary>
    /// Wraps a checked heartbeat and the node's checked tools (and resources, templates and prompts, when it has any),
    /// valid until the send time plus the TTL.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">That expiry is past the end of the calendar.</exception>
    public RegisteredNode(NodeHeartbeat heartbeat, NodeTools tools, NodePrimitives? primitives = null)
        : this(heartbeat, tools, primitives ?? NodePrimitives.None, null)
    {
    }

    private RegisteredNode(NodeHeartbeat heartbeat, NodeTools tools, NodePrimitives primitives, DateTimeOffset? validUntil)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        ArgumentNullException.ThrowIfNull(tools);
        Id = heartbeat.Id;
        Tools = tools;
        Primitives = primitives;
        _live = new Live(heartbeat, validUntil ?? heartbeat.SentAt.AddMilliseconds(heartbeat.TtlMilliseconds));
    }

    /// <summary>
    /// The same node, valid until <paramref name="expiresAt"/>: a node the registry lost sight of while it could not
    /// read the store is kept that long for its next heartbeat to arrive.
    /// </summary>
    public RegisteredNode ValidUntil(DateTimeOffset expiresAt) => new(Heartbeat, Tools, Primitives, expiresAt);

    /// <summary>The node's id.</summary>
    public string Id { get; }

    /// <summary>The node's tools.</summary>
    public NodeTools Tools { get; }

    /// <summary>The node's resources, resource templates and prompts.</summary>
    public NodePrimitives Primitives { get; }

    /// <summary>The latest heartbeat read from Redis.</summary>
    public NodeHeartbeat Heartbeat => Volatile.Read(ref _live).Heartbeat;

    /// <summary>When the latest heartbeat stops being valid.</summary>
    public DateTimeOffset ExpiresAt => Volatile.Read(ref _live).ExpiresAt;

    /// <summary>The name of the external server this entry stands for; <see langword="null"/> for a node of the cluster.</summary>
    public string? Server => Heartbeat.Server;

    /// <summary>Whether the node takes new calls.</summary>
    public bool IsReady => Heartbeat.Status == NodeStatus.Ready;

    /// <summary>
    /// Whether <paramref name="heartbeat"/> describes this same node (URL, version, packs and tools), so that
    /// <see cref="Update"/> may take it.
    /// </summary>
    public bool IsSameNodeAs(NodeHeartbeat heartbeat)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        var current = Heartbeat;
        return heartbeat.Id == Id
            && heartbeat.ToolsHash == Tools.Hash
            && heartbeat.PrimitivesHash == Primitives.Hash
            && heartbeat.McpUrl == current.McpUrl
            && heartbeat.Version == current.Version
            && heartbeat.Server == current.Server
            && heartbeat.Packs.SequenceEqual(current.Packs, StringComparer.Ordinal);
    }

    /// <summary>
    /// Takes a later heartbeat of the same node (see <see cref="IsSameNodeAs"/>): its load, status and expiry, which
    /// replaces any set by <see cref="ValidUntil"/>.
    /// </summary>
    public void Update(NodeHeartbeat heartbeat)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        Volatile.Write(ref _live, new Live(heartbeat, heartbeat.SentAt.AddMilliseconds(heartbeat.TtlMilliseconds)));
    }

    /// <summary>
    /// Whether the node's <paramref name="toolName"/> says running it twice does no harm: its annotations mark it
    /// read-only or idempotent.
    /// </summary>
    public bool IsSafeToRepeat(string toolName) => Tools.Find(toolName) is { } tool && IsSafeToRepeat(tool);

    /// <summary>Whether <paramref name="tool"/>'s annotations mark it read-only or idempotent.</summary>
    public static bool IsSafeToRepeat(Tool tool) =>
        tool?.Annotations is { } annotations && (annotations.ReadOnlyHint == true || annotations.IdempotentHint == true);

    /// <summary>Whether the heartbeat is still valid at <paramref name="now"/>.</summary>
    public bool IsLiveAt(DateTimeOffset now) => ExpiresAt > now;

    private sealed record Live(NodeHeartbeat Heartbeat, DateTimeOffset ExpiresAt);
}
