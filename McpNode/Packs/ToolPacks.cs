using System.Reflection;
using McpAspire.Cluster;
using McpAspire.McpNode.Packs.Conformance;
using McpAspire.McpNode.Packs.Core;
using McpAspire.McpNode.Packs.Data;
using McpAspire.McpNode.Packs.Files;
using McpAspire.McpNode.Packs.Http;
using McpAspire.McpNode.Packs.Stdio;
using McpAspire.McpNode.Packs.Transactions;
using ModelContextProtocol.Server;

namespace McpAspire.McpNode.Packs;

/// <summary>
/// The tool packs a node can serve, by name. A pack is a class of <c>[McpServerTool]</c> methods; to
/// add one, write the class in its own folder under <c>Packs/</c> and list it here.
/// </summary>
public static class ToolPacks
{
    private static readonly Dictionary<string, ToolPack> Packs = new ToolPack[]
    {
        new("conformance", typeof(ConformanceTools), NeedsSession: true, Extend: server => server.AddConformancePack()),
        new("core", typeof(CoreTools)),
        new("data", typeof(DataTools)),
        new("files", typeof(FileTools)),
        new("http", typeof(HttpTools)),
        new(StdioPack.Name, ToolType: null, Extend: server => server.AddStdioBridge()),
        new("transactions", typeof(TransactionTools)),
    }.ToDictionary(pack => pack.Name, StringComparer.Ordinal);

    /// <summary>Every pack name, sorted.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Packs.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Whether a pack of this name exists.</summary>
    public static bool IsKnown(string name) => Packs.ContainsKey(name);

    /// <summary>The pack of this name.</summary>
    public static ToolPack Get(string name) => Packs[name];

    /// <summary>
    /// Names each tool of <paramref name="packs"/> in <paramref name="server"/> with its pack, in the definition's
    /// <c>_meta</c> (<see cref="ToolCatalog.PackMetaKey"/>), so the coordinator's rules can grant whole packs.
    /// </summary>
    public static void NameTheirTools(McpServerOptions server, IEnumerable<ToolPack> packs)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(packs);
        var packOf = packs
            .Where(pack => pack.ToolType is not null)
            .SelectMany(pack => pack.ToolType!.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
                .Select(method => method.GetCustomAttribute<McpServerToolAttribute>()?.Name)
                .OfType<string>()
                .Select(tool => (Tool: tool, Pack: pack.Name)))
            .ToDictionary(entry => entry.Tool, entry => entry.Pack, StringComparer.Ordinal);
        foreach (var tool in server.ToolCollection ?? [])
        {
            if (packOf.TryGetValue(tool.ProtocolTool.Name, out var pack))
            {
                (tool.ProtocolTool.Meta ??= [])[ToolCatalog.PackMetaKey] = pack;
            }
        }
    }
}

/// <summary>One tool pack.</summary>
/// <param name="Name">The name <c>Node:Packs</c> lists it by.</param>
/// <param name="ToolType">The class whose <c>[McpServerTool]</c> methods are the pack's tools; <see langword="null"/> for a pack whose tools come while the node runs.</param>
/// <param name="NeedsSession">
/// Whether its tools need a stateful endpoint (<c>Mcp:Stateless=false</c>), for example to send
/// requests back to the client; the node refuses to start without one.
/// </param>
/// <param name="Extend">What the pack adds to the server besides its tools: resources, prompts, handlers.</param>
public sealed record ToolPack(string Name, Type? ToolType, bool NeedsSession = false, Action<IMcpServerBuilder>? Extend = null);
