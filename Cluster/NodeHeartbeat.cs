using System.Text.Json.Serialization;

namespace McpAspire.Cluster;

/// <summary>
/// What a node publishes about itself on every heartbeat. The coordinator reads it to route calls;
/// <c>GET /api/nodes</c> shows it. The JSON shape is a contract between node and coordinator versions; in the store
/// it is wrapped in a <see cref="HeartbeatRecord"/>, signed with the cluster key.
/// </summary>
public sealed record NodeHeartbeat
{
    /// <summary>The node's unique id (stable for the life of the process).</summary>
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    /// <summary>The absolute URL of the node's MCP endpoint.</summary>
    [JsonPropertyName("mcpUrl")]
    public required Uri McpUrl { get; init; }

    /// <summary>The node's status; see <see cref="NodeStatus"/>.</summary>
    [JsonPropertyName("status")]
    public required string Status { get; init; }

    /// <summary>Tool calls running or queued on the node now.</summary>
    [JsonPropertyName("inFlight")]
    public int InFlight { get; init; }

    /// <summary>How many tool calls the node runs at once.</summary>
    [JsonPropertyName("maxConcurrency")]
    public int MaxConcurrency { get; init; }

    /// <summary>The node's version.</summary>
    [JsonPropertyName("version")]
    public string? Version { get; init; }

    /// <summary>The tool packs the node serves.</summary>
    [JsonPropertyName("packs")]
    public IReadOnlyList<string> Packs { get; init; } = [];

    /// <summary>
    /// The SHA-256 (lower-case hex) of the node's tool definitions record, stored under <see cref="ClusterKeys.Tools"/>:
    /// the definitions are written and read again only when this changes, and nodes with the same tools share one record.
    /// </summary>
    [JsonPropertyName("toolsHash")]
    public required string ToolsHash { get; init; }

    /// <summary>How many tools that record defines.</summary>
    [JsonPropertyName("toolCount")]
    public int ToolCount { get; init; }

    /// <summary>
    /// The SHA-256 of the node's record of resources, resource templates and prompts (<see cref="PrimitiveCatalog"/>),
    /// stored under <see cref="ClusterKeys.Primitives"/>; <see langword="null"/> when it serves none.
    /// </summary>
    [JsonPropertyName("primitivesHash")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? PrimitivesHash { get; init; }

    /// <summary>
    /// The name of the external MCP server this record stands for (<c>Coordinator:Servers:{name}</c>), written by the
    /// coordinator that probes it; <see langword="null"/> for a node, which writes its own record.
    /// </summary>
    [JsonPropertyName("server")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Server { get; init; }

    /// <summary>When the node sent this heartbeat (UTC).</summary>
    [JsonPropertyName("sentAt")]
    public DateTimeOffset SentAt { get; init; }

    /// <summary>How long the heartbeat stays valid after <see cref="SentAt"/>.</summary>
    [JsonPropertyName("ttlMs")]
    public long TtlMilliseconds { get; init; }
}
