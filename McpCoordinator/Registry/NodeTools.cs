using System.Text.Json;
using McpAspire.Cluster;
using ModelContextProtocol.Protocol;

namespace McpAspire.McpCoordinator.Registry;

/// <summary>One node's tool definitions, as read from a <see cref="ToolCatalog"/> record and checked.</summary>
public sealed class NodeTools
{
    private readonly Dictionary<string, int> _byName;

    /// <summary>Wraps checked definitions: names unique, each one serializable.</summary>
    public NodeTools(string hash, IReadOnlyList<Tool> tools)
    {
        ArgumentNullException.ThrowIfNull(tools);
        Hash = hash;
        Tools = tools;
        Definitions = [.. tools.Select(tool => JsonSerializer.SerializeToElement(tool, ClusterJson.Options))];
        _byName = new Dictionary<string, int>(tools.Count, StringComparer.Ordinal);
        for (var i = 0; i < tools.Count; i++)
        {
            _byName.TryAdd(tools[i].Name, i);
        }
    }

    /// <summary>The hash of the record they came from.</summary>
    public string Hash { get; }

    /// <summary>The definitions.</summary>
    public IReadOnlyList<Tool> Tools { get; }

    /// <summary>Each definition as JSON, in the order of <see cref="Tools"/>: what two nodes' definitions are compared by.</summary>
    public IReadOnlyList<JsonElement> Definitions { get; }

    /// <summary>The definition of <paramref name="name"/>, if the node has that tool.</summary>
    public Tool? Find(string name) => _byName.TryGetValue(name, out var index) ? Tools[index] : null;

    /// <summary>The JSON definition of <paramref name="name"/>, if the node has that tool.</summary>
    public JsonElement? DefinitionOf(string name) => _byName.TryGetValue(name, out var index) ? Definitions[index] : null;
}
