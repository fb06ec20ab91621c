using System.Text.Json;
using ModelContextProtocol;

namespace McpAspire.Cluster;

/// <summary>The serializer settings for registry records: the SDK's, so tool definitions keep their MCP shape.</summary>
public static class ClusterJson
{
    /// <summary>The options every registry reader and writer uses.</summary>
    public static JsonSerializerOptions Options { get; } = new(McpJsonUtilities.DefaultOptions);
}
