using McpAspire.McpNode.Packs.Core;
using McpAspire.McpNode.Packs.Data;
using McpAspire.McpNode.Packs.Files;
using McpAspire.McpNode.Packs.Http;
using McpAspire.McpNode.Packs.Transactions;

namespace McpAspire.McpNode.Packs;

/// <summary>
/// The tool packs a node can serve, by name. A pack is a class of <c>[McpServerTool]</c> methods; to
/// add one, write the class in its own folder under <c>Packs/</c> and list it here.
/// </summary>
public static class ToolPacks
{
    private static readonly Dictionary<string, Type> Packs = new(StringComparer.Ordinal)
    {
        ["core"] = typeof(CoreTools),
        ["data"] = typeof(DataTools),
        ["files"] = typeof(FileTools),
        ["http"] = typeof(HttpTools),
        ["transactions"] = typeof(TransactionTools),
    };

    /// <summary>Every pack name, sorted.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Packs.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Whether a pack of this name exists.</summary>
    public static bool IsKnown(string name) => Packs.ContainsKey(name);

    /// <summary>The tool class of a pack.</summary>
    public static Type TypeOf(string name) => Packs[name];
}
