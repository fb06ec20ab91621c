using System.Text.Json;
using System.Text.RegularExpressions;
using ModelContextProtocol.Protocol;

namespace McpAspire.McpCoordinator.Registry;

/// <summary>
/// A view of the cluster: the live nodes, the unions of their tools, resources, resource templates and prompts, and
/// the records the registry rejected. The set of nodes and the unions are fixed; each node's load is updated in place
/// as its heartbeats arrive (<see cref="RegisteredNode.Update"/>), so a refresh that changes no node's identity or
/// status reuses them.
/// </summary>
public sealed class RegistrySnapshot
{
    /// <summary>The snapshot before the first read from Redis.</summary>
    public static RegistrySnapshot Empty { get; } = new([], DateTimeOffset.MinValue, isStale: true, staleReason: "The registry has not been read yet.");

    private readonly Dictionary<string, RegisteredNode> _nodesById;
    private readonly Dictionary<string, IReadOnlyList<RegisteredNode>> _nodesByTool = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tool> _servedTools;
    private readonly Dictionary<string, IReadOnlyList<RegisteredNode>> _nodesByResource = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<RegisteredNode>> _nodesByTemplate = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<RegisteredNode>> _nodesByPrompt = new(StringComparer.Ordinal);
    private readonly (string UriTemplate, Regex Pattern)[] _templatePatterns;
    private readonly Lazy<ToolListing> _listing;

    /// <summary>
    /// Builds the snapshot and its unions, each ordered by key: tools by name, resources by URI, templates by URI
    /// template, prompts by name. When nodes define one key differently (for a tool: description, annotations, schemas,
    /// the whole definition), the definition served, and routed to, is the one of a ready node of the cluster before
    /// any external server's (their version numbers say nothing about each other), then of the newest version, then of
    /// the lowest id; and only nodes with that same definition get its requests. For tools, that is a
    /// <see cref="ToolConflict"/>.
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

        // Built once per refresh, so routing a request is a dictionary lookup.
        _nodesById = nodes.DistinctBy(node => node.Id, StringComparer.Ordinal).ToDictionary(node => node.Id, StringComparer.Ordinal);
        var ordered = _nodesById.Values
            .OrderByDescending(node => node.IsReady)
            .ThenBy(node => node.Server is not null)
            .ThenByDescending(VersionOf)
            .ThenBy(node => node.Id, StringComparer.Ordinal)
            .ToList();
        var conflicts = new List<ToolConflict>();
        Tools = Union(ordered, node => node.Tools.Tools, tool => tool.Name, SameTool, _nodesByTool, conflicts);
        Conflicts = [.. conflicts.OrderBy(conflict => conflict.Tool, StringComparer.Ordinal)];
        _servedTools = Tools.ToDictionary(tool => tool.Name, StringComparer.Ordinal);
        Resources = Union(ordered, node => node.Primitives.Resources, resource => resource.Uri,
            (a, b, uri) => SamePrimitives(a, b) || JsonEquals(a.Primitives.ResourceDefinition(uri), b.Primitives.ResourceDefinition(uri)), _nodesByResource, conflicts: null);
        ResourceTemplates = Union(ordered, node => node.Primitives.Templates, template => template.UriTemplate,
            (a, b, template) => SamePrimitives(a, b) || JsonEquals(a.Primitives.TemplateDefinition(template), b.Primitives.TemplateDefinition(template)), _nodesByTemplate, conflicts: null);
        Prompts = Union(ordered, node => node.Primitives.Prompts, prompt => prompt.Name,
            (a, b, name) => SamePrimitives(a, b) || JsonEquals(a.Primitives.PromptDefinition(name), b.Primitives.PromptDefinition(name)), _nodesByPrompt, conflicts: null);
        _templatePatterns = [.. ResourceTemplates.Select(template => (template.UriTemplate, Pattern: UriTemplatePattern.Compile(template.UriTemplate)!))];
        _listing = new(() => new ToolListing(Tools));
    }

    /// <summary>The same nodes and unions, read again at <paramref name="readAt"/> with these rejections.</summary>
    private RegistrySnapshot(RegistrySnapshot nodes, DateTimeOffset readAt, IReadOnlyList<RejectedRecord> rejected)
    {
        Nodes = nodes.Nodes;
        ReadAt = readAt;
        Rejected = rejected;
        Tools = nodes.Tools;
        Conflicts = nodes.Conflicts;
        Resources = nodes.Resources;
        ResourceTemplates = nodes.ResourceTemplates;
        Prompts = nodes.Prompts;
        _nodesById = nodes._nodesById;
        _nodesByTool = nodes._nodesByTool;
        _servedTools = nodes._servedTools;
        _nodesByResource = nodes._nodesByResource;
        _nodesByTemplate = nodes._nodesByTemplate;
        _nodesByPrompt = nodes._nodesByPrompt;
        _templatePatterns = nodes._templatePatterns;
        _listing = nodes._listing;
    }

    /// <summary>
    /// This snapshot's nodes and unions, read again at <paramref name="readAt"/> with <paramref name="rejected"/>: what a
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

    /// <summary>The JSON of the definition <see cref="Tool(string)"/> serves, to tell when it changes.</summary>
    public JsonElement? ServedDefinition(string name) =>
        _servedTools.ContainsKey(name) && NodesOffering(name) is [var first, ..] ? first.Tools.DefinitionOf(name) : null;

    /// <summary>The node with id <paramref name="id"/>, ready or not, if its heartbeat was valid.</summary>
    public RegisteredNode? Node(string id) => _nodesById.GetValueOrDefault(id);

    /// <summary>Every node, ready or not, that offers <paramref name="toolName"/> as it is served (see <see cref="Conflicts"/>).</summary>
    public IReadOnlyList<RegisteredNode> NodesOffering(string toolName) =>
        _nodesByTool.TryGetValue(toolName, out var offering) ? offering : [];

    /// <summary>
    /// Every node, ready or not, that can read <paramref name="uri"/>: those that list the resource as it is served;
    /// otherwise those with the first template (in URI template order) whose expansions take it.
    /// </summary>
    public IReadOnlyList<RegisteredNode> NodesReading(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (_nodesByResource.TryGetValue(uri, out var listing))
        {
            return listing;
        }

        foreach (var (template, pattern) in _templatePatterns)
        {
            if (pattern.IsMatch(uri))
            {
                return _nodesByTemplate[template];
            }
        }

        return [];
    }

    /// <summary>Every node, ready or not, that offers the resource template <paramref name="uriTemplate"/> as it is served.</summary>
    public IReadOnlyList<RegisteredNode> NodesWithTemplate(string uriTemplate) =>
        _nodesByTemplate.TryGetValue(uriTemplate, out var offering) ? offering : [];

    /// <summary>Every node, ready or not, that offers the prompt <paramref name="name"/> as it is served.</summary>
    public IReadOnlyList<RegisteredNode> NodesWithPrompt(string name) =>
        _nodesByPrompt.TryGetValue(name, out var offering) ? offering : [];

    /// <summary>Every node whose heartbeat was valid at <see cref="ReadAt"/>.</summary>
    public IReadOnlyList<RegisteredNode> Nodes { get; }

    /// <summary>The union of the ready nodes' tools.</summary>
    public IReadOnlyList<Tool> Tools { get; }

    /// <summary><see cref="Tools"/> as <c>tools/list</c> pages them, built on first use and kept while the tools are the same.</summary>
    public ToolListing Listing => _listing.Value;

    /// <summary>The union of the ready nodes' resources, by URI.</summary>
    public IReadOnlyList<Resource> Resources { get; }

    /// <summary>The union of the ready nodes' resource templates, by URI template.</summary>
    public IReadOnlyList<ResourceTemplate> ResourceTemplates { get; }

    /// <summary>The union of the ready nodes' prompts, by name.</summary>
    public IReadOnlyList<Prompt> Prompts { get; }

    /// <summary>When the nodes were read from Redis.</summary>
    public DateTimeOffset ReadAt { get; }

    /// <summary>Whether the last refresh failed, so this is an older view kept to go on serving.</summary>
    public bool IsStale { get; }

    /// <summary>Why the snapshot is stale.</summary>
    public string? StaleReason { get; }

    /// <summary>The same nodes, marked stale.</summary>
    public RegistrySnapshot AsStale(string reason) => new(Nodes, ReadAt, isStale: true, staleReason: reason, Rejected);

    /// <summary>
    /// The union of one kind of item over <paramref name="ordered"/> (in serving order): for each key, the first node's
    /// item, if that node is ready; <paramref name="offering"/> gets, per key, the nodes whose item is the same as that
    /// first node's, and <paramref name="conflicts"/>, when given, the keys whose items differ.
    /// </summary>
    private static List<T> Union<T>(
        List<RegisteredNode> ordered,
        Func<RegisteredNode, IEnumerable<T>> itemsOf,
        Func<T, string> keyOf,
        Func<RegisteredNode, RegisteredNode, string, bool> same,
        Dictionary<string, IReadOnlyList<RegisteredNode>> offering,
        List<ToolConflict>? conflicts)
    {
        var byKey = new Dictionary<string, List<(RegisteredNode Node, T Item)>>(StringComparer.Ordinal);
        foreach (var node in ordered)
        {
            foreach (var item in itemsOf(node))
            {
                var key = keyOf(item);
                if (!byKey.TryGetValue(key, out var definitions))
                {
                    byKey[key] = definitions = [];
                }

                definitions.Add((node, item));
            }
        }

        var served = new List<(string Key, T Item)>();
        foreach (var (key, definitions) in byKey)
        {
            var first = definitions[0];
            var alike = definitions.Where(pair => same(pair.Node, first.Node, key)).Select(pair => pair.Node).ToList();
            offering[key] = alike;
            if (first.Node.IsReady)
            {
                served.Add((key, first.Item));
            }

            if (conflicts is not null && alike.Count < definitions.Count)
            {
                conflicts.Add(new ToolConflict(
                    key,
                    first.Node.Id,
                    [.. alike.Select(node => node.Id).Order(StringComparer.Ordinal)],
                    [.. definitions.Select(pair => pair.Node.Id).Except(alike.Select(node => node.Id)).Order(StringComparer.Ordinal)]));
            }
        }

        return [.. served.OrderBy(entry => entry.Key, StringComparer.Ordinal).Select(entry => entry.Item)];
    }

    /// <summary>The node's version as a comparable number (<c>1.10.0</c> is newer than <c>1.9.3</c>); 0 when it has none.</summary>
    private static Version VersionOf(RegisteredNode node)
    {
        var text = node.Heartbeat.Version ?? string.Empty;
        var end = text.IndexOfAny(['-', '+']);
        return Version.TryParse(end < 0 ? text : text[..end], out var version) ? version : new Version(0, 0);
    }

    /// <summary>Whether two nodes define <paramref name="tool"/> the same way, to the last member.</summary>
    private static bool SameTool(RegisteredNode a, RegisteredNode b, string tool) =>
        a.Tools == b.Tools || a.Tools.Hash == b.Tools.Hash || JsonEquals(a.Tools.DefinitionOf(tool), b.Tools.DefinitionOf(tool));

    /// <summary>Whether two nodes serve the same resources, templates and prompts, all of them.</summary>
    private static bool SamePrimitives(RegisteredNode a, RegisteredNode b) => a.Primitives == b.Primitives || a.Primitives.Hash == b.Primitives.Hash;

    private static bool JsonEquals(JsonElement? left, JsonElement? right) =>
        left is { } a && right is { } b && JsonElement.DeepEquals(a, b);
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
