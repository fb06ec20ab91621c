namespace McpAspire.ServiceDefaults.Cluster;

/// <summary>The Redis keys of the node registry.</summary>
public static class ClusterKeys
{
    /// <summary>A set holding the id of every node that has registered and not yet deregistered or been swept.</summary>
    public const string NodeSet = "mcpaspire:nodes";

    /// <summary>The pub/sub channel on which nodes announce <see cref="RegistryEvent"/>s.</summary>
    public const string EventsChannel = "mcpaspire:registry-events";

    /// <summary>The key of a node's heartbeat: a JSON <see cref="NodeHeartbeat"/> that expires with its TTL.</summary>
    public static string Heartbeat(string nodeId) => $"mcpaspire:node:{nodeId}";
}
