using System.Text.Json;
using System.Text.Json.Serialization;
using ModelContextProtocol.Protocol;

namespace McpAspire.Cluster;

/// <summary>
/// What a node or an external server serves besides tools, as the store holds it: its resources, resource templates
/// and prompts, as the list methods return them, in one JSON object under <see cref="ClusterKeys.Primitives"/> of its
/// SHA-256. The heartbeat names it by that hash (<see cref="NodeHeartbeat.PrimitivesHash"/>) and a coordinator checks
/// the content against it, as for <see cref="ToolCatalog"/>. A node that serves none writes no record.
/// </summary>
public sealed class PrimitiveCatalog
{
    private PrimitiveCatalog(byte[] json, string hash, int count)
    {
        Json = json;
        Hash = hash;
        Count = count;
    }

    /// <summary>The record's content.</summary>
    public ReadOnlyMemory<byte> Json { get; }

    /// <summary>The SHA-256 of <see cref="Json"/>, lower-case hex.</summary>
    public string Hash { get; }

    /// <summary>How many resources, templates and prompts it lists in all.</summary>
    public int Count { get; }

    /// <summary>The record of these lists.</summary>
    public static PrimitiveCatalog Of(IReadOnlyList<Resource> resources, IReadOnlyList<ResourceTemplate> templates, IReadOnlyList<Prompt> prompts)
    {
        var content = new Content { Resources = resources, ResourceTemplates = templates, Prompts = prompts };
        var json = JsonSerializer.SerializeToUtf8Bytes(content, ClusterJson.Options);
        return new PrimitiveCatalog(json, ToolCatalog.HashOf(json), resources.Count + templates.Count + prompts.Count);
    }

    /// <summary>The JSON shape of the record.</summary>
    public sealed record Content
    {
        /// <summary>The resources, as <c>resources/list</c> gives them.</summary>
        [JsonPropertyName("resources")]
        public IReadOnlyList<Resource> Resources { get; init; } = [];

        /// <summary>The resource templates, as <c>resources/templates/list</c> gives them.</summary>
        [JsonPropertyName("resourceTemplates")]
        public IReadOnlyList<ResourceTemplate> ResourceTemplates { get; init; } = [];

        /// <summary>The prompts, as <c>prompts/list</c> gives them.</summary>
        [JsonPropertyName("prompts")]
        public IReadOnlyList<Prompt> Prompts { get; init; } = [];
    }
}
