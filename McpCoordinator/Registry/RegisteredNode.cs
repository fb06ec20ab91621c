using McpAspire.ServiceDefaults.Cluster;
using ModelContextProtocol.Protocol;

namespace McpAspire.McpCoordinator.Registry;

/// <summary>A node as the registry last saw it.</summary>
public sealed class RegisteredNode
{
    /// <summary>Wraps a heartbeat.</summary>
    public RegisteredNode(NodeHeartbeat heartbeat)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        Heartbeat = heartbeat;
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
    public DateTimeOffset ExpiresAt => Heartbeat.SentAt.AddMilliseconds(Heartbeat.TtlMilliseconds);
}
