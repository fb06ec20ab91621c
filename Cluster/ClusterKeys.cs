namespace McpAspire.Cluster;

/// <summary>The Redis keys of the node registry.</summary>
public static class ClusterKeys
{
    /// <summary>A set holding the id of every node that has registered and not yet deregistered or been swept.</summary>
    public const string NodeSet = "mcpaspire:nodes";

    /// <summary>The pub/sub channel on which nodes announce <see cref="RegistryEvent"/>s.</summary>
    public const string EventsChannel = "mcpaspire:registry-events";

    /// <summary>The key of a node's heartbeat: a <see cref="HeartbeatRecord"/> that expires with its TTL.</summary>
    public static string Heartbeat(string nodeId) => $"mcpaspire:node:{nodeId}";

    /// <summary>
    /// The key of a tool definitions record (<see cref="ToolCatalog"/>), named by the SHA-256 of its content, so the
    /// content cannot change without the name, and nodes that serve the same tools share it.
    /// </summary>
    public static string Tools(string hash) => $"mcpaspire:tools:{hash}";

    /// <summary>
    /// The key of a record of resources, resource templates and prompts (<see cref="PrimitiveCatalog"/>), named by the
    /// SHA-256 of its content like <see cref="Tools"/>.
    /// </summary>
    public static string Primitives(string hash) => $"mcpaspire:primitives:{hash}";

    /// <summary>
    /// The key that asks a node to drain while it keeps running: while it exists, the node takes no new calls,
    /// finishes those in flight and reports <c>draining</c>; once it is deleted, the node is ready again. The
    /// AppHost's Drain and Resume commands set and delete it, and so can an operator with any Redis client.
    /// </summary>
    public static string DrainRequest(string nodeId) => $"mcpaspire:drain:{nodeId}";

    /// <summary>
    /// The lease of the coordinator replica that probes an external MCP server and keeps its registry record: the
    /// replica's id, expiring unless that replica renews it.
    /// </summary>
    public static string ServerLease(string server) => $"mcpaspire:server-lease:{server}";
}
