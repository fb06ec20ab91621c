using McpAspire.Cluster;
using McpAspire.McpCoordinator.Registry;
using ModelContextProtocol.Protocol;

namespace McpAspire.UnitTests.Coordinator;

/// <summary>Builds registry entries for tests.</summary>
internal static class RegisteredNodes
{
    /// <summary>A node with no tools of note that serves these resources, templates and prompts.</summary>
    public static RegisteredNode Serving(string id, IReadOnlyList<Resource> resources, IReadOnlyList<ResourceTemplate> templates, IReadOnlyList<Prompt> prompts, string status = NodeStatus.Ready)
    {
        var catalog = PrimitiveCatalog.Of(resources, templates, prompts);
        return Create(id, [new Tool { Name = "echo" }], status: status, primitives: new NodePrimitives(catalog.Hash, resources, templates, prompts));
    }

    public static RegisteredNode Create(string id, int inFlight = 0, int maxConcurrency = 10, string status = NodeStatus.Ready, params string[] tools) =>
        Create(
            id,
            [.. (tools.Length == 0 ? ["echo"] : tools).Select(name => new Tool { Name = name, Description = $"The {name} tool." })],
            inFlight: inFlight,
            maxConcurrency: maxConcurrency,
            status: status);

    public static RegisteredNode Create(
        string id, IReadOnlyList<Tool> tools, string? version = null, int inFlight = 0, int maxConcurrency = 10, string status = NodeStatus.Ready, string? server = null, NodePrimitives? primitives = null)
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
                PrimitivesHash = primitives?.Hash,
            },
            new NodeTools(catalog.Hash, tools),
            primitives);
    }
}
