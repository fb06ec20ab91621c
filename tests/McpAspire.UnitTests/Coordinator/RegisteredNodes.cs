using McpAspire.Cluster;
using McpAspire.McpCoordinator.Registry;
using ModelContextProtocol.Protocol;

namespace McpAspire.UnitTests.Coordinator;

/// <summary>Builds registry entries for tests.</summary>
internal static class RegisteredNodes
{
    public static RegisteredNode Create(string id, int inFlight = 0, int maxConcurrency = 10, string status = NodeStatus.Ready, params string[] tools) =>
        Create(
            id,
            [.. (tools.Length == 0 ? ["echo"] : tools).Select(name => new Tool { Name = name, Description = $"The {name} tool." })],
            inFlight: inFlight,
            maxConcurrency: maxConcurrency,
            status: status);

    public static RegisteredNode Create(string id, IReadOnlyList<Tool> tools, string? version = null, int inFlight = 0, int maxConcurrency = 10, string status = NodeStatus.Ready, string? server = null)
    {
        var catalog = ToolCatalog.Of(tools);
        return new(
            new NodeHeartbeat
            {
                Id = id,
                McpUrl = new Uri($"http://127.0.0.1:1/{id}/mcp"),
                Status = status,
                InFlight = inFlight,
                MaxConcurrency = maxConcurrency,
                Version = version,
                ToolsHash = catalog.Hash,
                ToolCount = catalog.Count,
                SentAt = DateTimeOffset.UnixEpoch,
                TtlMilliseconds = 6000,
                Server = server,
            },
            new NodeTools(catalog.Hash, tools));
    }
}
