using ModelContextProtocol.Protocol;

namespace McpAspire.McpCoordinator.Registry;

/// <summary>An immutable view of the cluster: the live nodes and the union of their tools.</summary>
public sealed class RegistrySnapshot
{
    /// <summary>The snapshot before the first read from Redis.</summary>
    public static RegistrySnapshot Empty { get; } = new([], DateTimeOffset.MinValue, isStale: true, staleReason: "The registry has not been read yet.");

    /// <summary>Builds the snapshot and its tool union (first definition of each name wins, ordered by name).</summary>
    public RegistrySnapshot(IReadOnlyList<RegisteredNode> nodes, DateTimeOffset readAt, bool isStale = false, string? staleReason = null)
    {
        Nodes = nodes;
        ReadAt = readAt;
        IsStale = isStale;
        StaleReason = staleReason;
        var tools = new Dictionary<string, Tool>(StringComparer.Ordinal);
        foreach (var node in nodes.Where(node => node.IsReady))
        {
            foreach (var tool in node.Heartbeat.Tools)
            {
                tools.TryAdd(tool.Name, tool);
            }
        }

        Tools = [.. tools.Values.OrderBy(tool => tool.Name, StringComparer.Ordinal)];

        // Built once per refresh, so routing a call or a session is a dictionary lookup.
        _nodesById = nodes.DistinctBy(node => node.Id, StringComparer.Ordinal).ToDictionary(node => node.Id, StringComparer.Ordinal);
        _nodesByTool = nodes
            .SelectMany(node => node.ToolNames, (node, tool) => (node, tool))
            .GroupBy(pair => pair.tool, StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => (IReadOnlyList<RegisteredNode>)[.. group.Select(pair => pair.node)], StringComparer.Ordinal);
    }

    private readonly Dictionary<string, IReadOnlyList<RegisteredNode>> _nodesByTool;
    private readonly Dictionary<string, RegisteredNode> _nodesById;

    /// <summary>The node with id <paramref name="id"/>, ready or not, if its heartbeat was valid.</summary>
    public RegisteredNode? Node(string id) => _nodesById.GetValueOrDefault(id);

    /// <summary>Every node, ready or not, that offers <paramref name="toolName"/>.</summary>
    public IReadOnlyList<RegisteredNode> NodesOffering(string toolName) =>
        _nodesByTool.TryGetValue(toolName, out var offering) ? offering : [];

    /// <summary>Every node whose heartbeat was valid at <see cref="ReadAt"/>.</summary>
    public IReadOnlyList<RegisteredNode> Nodes { get; }

    /// <summary>The union of the ready nodes' tools.</summary>
    public IReadOnlyList<Tool> Tools { get; }

    /// <summary>When the nodes were read from Redis.</summary>
    public DateTimeOffset ReadAt { get; }

    /// <summary>Whether the last refresh failed, so this is an older view kept to go on serving.</summary>
    public bool IsStale { get; }

    /// <summary>Why the snapshot is stale.</summary>
    public string? StaleReason { get; }

    /// <summary>The same nodes, marked stale.</summary>
    public RegistrySnapshot AsStale(string reason) => new(Nodes, ReadAt, isStale: true, staleReason: reason);
}
