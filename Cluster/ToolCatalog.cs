using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;

namespace McpAspire.Cluster;

/// <summary>
/// A node's tool definitions as the store holds them: a JSON array of MCP <see cref="Tool"/>s, as <c>tools/list</c>
/// returns them, under <see cref="ClusterKeys.Tools"/> of its SHA-256. The heartbeat carries only the hash, so the
/// definitions are written and read again only when they change; a coordinator that reads a record checks that its
/// content has that hash, so a record cannot be altered without the signed heartbeat that names it.
/// </summary>
public sealed class ToolCatalog
{
    private ToolCatalog(byte[] json, string hash, int count)
    {
        Json = json;
        Hash = hash;
        Count = count;
    }

    /// <summary>
    /// The <c>_meta</c> member of a tool definition that names the node pack it comes from, so the coordinator's
    /// authorization rules can grant whole packs.
    /// </summary>
    public const string PackMetaKey = "io.mcpaspire/pack";

    /// <summary>The pack <paramref name="tool"/> comes from, as its <see cref="PackMetaKey"/> names it; <see langword="null"/> when it names none.</summary>
    public static string? PackOf(Tool tool)
    {
        ArgumentNullException.ThrowIfNull(tool);
        return tool.Meta?[PackMetaKey] is JsonValue value && value.TryGetValue<string>(out var pack) ? pack : null;
    }

    /// <summary>
    /// A copy of <paramref name="definition"/> (a tool or a prompt) under <paramref name="name"/>, naming
    /// <paramref name="pack"/> as its pack in <c>_meta</c> when one is given, in place of any it claimed.
    /// </summary>
    public static T Renamed<T>(T definition, string name, string? pack = null)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(definition);
        var copy = JsonSerializer.SerializeToNode(definition, ClusterJson.Options)!.AsObject();
        copy["name"] = name;
        if (pack is not null)
        {
            var meta = copy["_meta"] as JsonObject ?? [];
            meta[PackMetaKey] = pack;
            copy["_meta"] = meta;
        }

        return copy.Deserialize<T>(ClusterJson.Options)!;
    }

    /// <summary>The record's content.</summary>
    public ReadOnlyMemory<byte> Json { get; }

    /// <summary>The SHA-256 of <see cref="Json"/>, lower-case hex.</summary>
    public string Hash { get; }

    /// <summary>How many tools it defines.</summary>
    public int Count { get; }

    /// <summary>The record of <paramref name="tools"/>.</summary>
    public static ToolCatalog Of(IReadOnlyList<Tool> tools)
    {
        ArgumentNullException.ThrowIfNull(tools);
        var json = JsonSerializer.SerializeToUtf8Bytes(tools, ClusterJson.Options);
        return new ToolCatalog(json, HashOf(json), tools.Count);
    }

    /// <summary>The SHA-256 of <paramref name="json"/>, lower-case hex, as <see cref="NodeHeartbeat.ToolsHash"/> carries it.</summary>
    public static string HashOf(ReadOnlySpan<byte> json) => Convert.ToHexStringLower(SHA256.HashData(json));

    /// <summary>Whether <paramref name="hash"/> has the form of a hash: 64 lower-case hex digits.</summary>
    public static bool IsHash(string? hash) =>
        hash is { Length: 64 } && hash.AsSpan().IndexOfAnyExcept(LowerHex) < 0;

    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");
}
