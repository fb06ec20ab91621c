using System.Text.Json;
using ModelContextProtocol.Protocol;

namespace McpAspire.McpCoordinator.Registry;

/// <summary>
/// A view of the cluster: the live nodes, the union of their tools, and the records the registry rejected. The set
/// of nodes and the tool union are fixed; each node's load is updated in place as its heartbeats arrive
/// (<see cref="RegisteredNode.Update"/>), so a refresh that changes no node's identity or status reuses them.
/// </summary>
public sealed class RegistrySnapshot
{
    /// <summary>The snapshot before the first read from Redis.</summary>
    public static RegistrySnapshot Empty { get; } = new([], DateTimeOffset.MinValue, isStale: true, staleReason: "The registry has not been read yet.");

    /// <summary>
    /// Builds the snapshot and its tool union, ordered by name. When nodes define one tool name differently
    /// (description, annotations, schemas: the whole definition), that is a <see cref="ToolConflict"/>: the definition
    /// served, and routed to, is the one of a ready node of the cluster before any external server's (their version
    /// numbers say nothing about each other), then of the newest version, then of the lowest id; and only nodes with
    /// that same definition get its calls.
    /// </summary>
    public RegistrySnapshot(
        IReadOnlyList<RegisteredNode> nodes, DateTimeOffset readAt, bool isStale = false, string? staleReason = null, IReadOnlyList<RejectedRecord>? rejected = null)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        Nodes = nodes;
        ReadAt = readAt;
        IsStale = isStale;
        StaleReason = staleReason;
        Rejected = rejected ?? [];

        // Built once per refresh, so routing a call or a session is a dictionary lookup.
        _nodesById = nodes.DistinctBy(node => node.Id, StringComparer.Ordinal).ToDictionary(node => node.Id, StringComparer.Ordinal);
        var tools = new List<Tool>();
        var conflicts = new List<ToolConflict>();
        foreach (var definitions in _nodesById.Values
            .SelectMany(node => node.Tools.Tools, (node, tool) => (Node: node, Tool: tool))
            .GroupBy(pair => pair.Tool.Name, StringComparer.Ordinal))
        {
            var served = definitions
                .OrderByDescending(pair => pair.Node.IsReady)
                .ThenBy(pair => pair.Node.Server is not null)
                .ThenByDescending(pair => VersionOf(pair.Node))
                .ThenBy(pair => pair.Node.Id, StringComparer.Ordinal)
                .First();
            var alike = definitions.Where(pair => SameDefinition(pair.Node, served.Node, definitions.Key)).Select(pair => pair.Node).ToList();
            _nodesByTool[definitions.Key] = alike;
            if (served.Node.IsReady)
            {
                tools.Add(served.Tool);
                _servedTools[definitions.Key] = served.Tool;
            }

            if (alike.Count < definitions.Count())
            {
                conflicts.Add(new ToolConflict(
                    definitions.Key,
                    served.Node.Id,
                    [.. alike.Select(node => node.Id).Order(StringComparer.Ordinal)],
                    [.. definitions.Select(pair => pair.Node.Id).Except(alike.Select(node => node.Id)).Order(StringComparer.Ordinal)]));
            }
        }

        Tools = [.. tools.OrderBy(tool => tool.Name, StringComparer.Ordinal)];
        Conflicts = [.. conflicts.OrderBy(conflict => conflict.Tool, StringComparer.Ordinal)];
    }

    /// <summary>The same nodes and tools, read again at <paramref name="readAt"/> with these rejections.</summary>
    private RegistrySnapshot(RegistrySnapshot nodes, DateTimeOffset readAt, IReadOnlyList<RejectedRecord> rejected)
    {
        Nodes = nodes.Nodes;
        ReadAt = readAt;
        Rejected = rejected;
        Tools = nodes.Tools;
        Conflicts = nodes.Conflicts;
        _nodesById = nodes._nodesById;
        _nodesByTool = nodes._nodesByTool;
        _servedTools = nodes._servedTools;
    }

    private readonly Dictionary<string, IReadOnlyList<RegisteredNode>> _nodesByTool = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RegisteredNode> _nodesById;
    private readonly Dictionary<string, Tool> _servedTools = new(StringComparer.Ordinal);

    /// <summary>
    /// This snapshot's nodes and tools, read again at <paramref name="readAt"/> with <paramref name="rejected"/>: what a
    /// refresh that changed no node's identity or status gives, at no cost that grows with the tools.
    /// </summary>
    public RegistrySnapshot ReadAgain(DateTimeOffset readAt, IReadOnlyList<RejectedRecord> rejected)
    {
        ArgumentNullException.ThrowIfNull(rejected);
        return new(this, readAt, rejected);
    }

    /// <summary>The records the registry read but follows no node from, with the reasons.</summary>
    public IReadOnlyList<RejectedRecord> Rejected { get; }

    /// <summary>The definition of <paramref name="name"/> that <see cref="Tools"/> serves, if a ready node offers it.</summary>
    public Tool? Tool(string name) => _servedTools.GetValueOrDefault(name);

    /// <summary>Tool names defined differently on different nodes, and which definition is served.</summary>
    public IReadOnlyList<ToolConflict> Conflicts { get; }

    /// <summary>The node's version as a comparable number (<c>1.10.0</c> is newer than <c>1.9.3</c>); 0 when it has none.</summary>
    private static Version VersionOf(RegisteredNode node)
    {
        var text = node.Heartbeat.Version ?? string.Empty;
        var end = text.IndexOfAny(['-', '+']);
        return Version.TryParse(end < 0 ? text : text[..end], out var version) ? version : new Version(0, 0);
    }

    /// <summary>Whether two nodes define <paramref name="tool"/> the same way, to the last member.</summary>
    private static bool SameDefinition(RegisteredNode a, RegisteredNode b, string tool) =>
        a.Tools == b.Tools
        || a.Tools.Hash == b.Tools.Hash
        || (a.Tools.DefinitionOf(tool) is { } left && b.Tools.DefinitionOf(tool) is { } right && JsonElement.DeepEquals(left, right));

    /// <summary>The JSON of the definition <see cref="Tool(string)"/> serves, to tell when it changes.</summary>
    public JsonElement? ServedDefinition(string name) =>
        _servedTools.ContainsKey(name) && NodesOffering(name) is [var first, ..] ? first.Tools.DefinitionOf(name) : null;

    /// <summary>The node with id <paramref name="id"/>, ready or not, if its heartbeat was valid.</summary>
    public RegisteredNode? Node(string id) => _nodesById.GetValueOrDefault(id);

    /// <summary>Every node, ready or not, that offers <paramref name="toolName"/> as it is served (see <see cref="Conflicts"/>).</summary>
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
    public RegistrySnapshot AsStale(string reason) => new(Nodes, ReadAt, isStale: true, staleReason: reason, Rejected);
}

/// <summary>A registry record the coordinator follows no node from.</summary>
/// <param name="Id">The node id the record is under (cut to 64 characters, unprintable ones replaced, when it is no valid id).</param>
/// <param name="Reason">Why it was rejected.</param>
/// <param name="Since">When the registry first rejected it for this reason.</param>
public sealed record RejectedRecord(string Id, string Reason, DateTimeOffset Since);

/// <summary>One tool name that nodes define differently.</summary>
/// <param name="Tool">The tool's name.</param>
/// <param name="ServedFrom">The node whose definition <c>tools/list</c> serves (the newest version).</param>
/// <param name="Nodes">The nodes with that definition, which get the tool's calls.</param>
/// <param name="OtherNodes">The nodes with another definition, which get none of its calls.</param>
public sealed record ToolConflict(string Tool, string ServedFrom, IReadOnlyList<string> Nodes, IReadOnlyList<string> OtherNodes);
