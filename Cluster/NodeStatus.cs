namespace McpAspire.Cluster;

/// <summary>The values of <see cref="NodeHeartbeat.Status"/>.</summary>
public static class NodeStatus
{
    /// <summary>Accepting tool calls.</summary>
    public const string Ready = "ready";

    /// <summary>Finishing in-flight calls before it stops; takes no new ones.</summary>
    public const string Draining = "draining";
}
