using McpAspire.Cluster;
using ModelContextProtocol.Protocol;

namespace McpAspire.McpCoordinator.Registry;

/// <summary>A node as the registry last saw it.</summary>
public sealed class RegisteredNode
{
    /// <summary>Wraps a heartbeat, valid until its send time plus its TTL.</summary>
    /// <exception cref="ArgumentOutOfRangeException">That expiry is past the end of the calendar.</exception>
    public RegisteredNode(NodeHeartbeat heartbeat)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        Heartbeat = heartbeat;
        ExpiresAt = heartbeat.SentAt.AddMilliseconds(heartbeat.TtlMilliseconds);
    }

    /// <summary>
    /// The same node, valid until <paramref name="expiresAt"/>: a node the registry lost sight of while it could not
    /// read the store is kept that long for its next heartbeat to arrive.
    /// </summary>
    public RegisteredNode ValidUntil(DateTimeOffset expiresAt) => new(Heartbeat, expiresAt);

    private RegisteredNode(NodeHeartbeat heartbeat, DateTimeOffset expiresAt)
    {
        Heartbeat = heartbeat;
        ExpiresAt = expiresAt;
    }

    /// <summary>The node's id.</summary>
    public string Id => Heartbeat.Id;

    /// <summary>The heartbeat as read from Redis.</summary>
    public NodeHeartbeat Heartbeat { get; }

    /// <summary>Whether the node takes new calls.</summary>
    public bool IsReady => Heartbeat.Status == NodeStatus.Ready;

    /// <summary>
    /// Whether the node's <paramref name="toolName"/> says running it twice does no harm: its annotations mark it
    /// read-only or idempotent.
    /// </summary>
    public bool IsSafeToRepeat(string toolName) =>
        Heartbeat.Tools.FirstOrDefault(tool => tool.Name == toolName) is { } tool && IsSafeToRepeat(tool);

    /// <summary>Whether <paramref name="tool"/>'s annotations mark it read-only or idempotent.</summary>
    public static bool IsSafeToRepeat(Tool tool) =>
        tool?.Annotations is { } annotations && (annotations.ReadOnlyHint == true || annotations.IdempotentHint == true);

    /// <summary>Whether the heartbeat is still valid at <paramref name="now"/>.</summary>
    public bool IsLiveAt(DateTimeOffset now) => ExpiresAt > now;

    /// <summary>When the heartbeat stops being valid.</summary>
    public DateTimeOffset ExpiresAt { get; }
}
