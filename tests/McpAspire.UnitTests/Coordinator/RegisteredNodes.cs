using McpAspire.Cluster;
using McpAspire.McpCoordinator.Registry;
using ModelContextProtocol.Protocol;

namespace McpAspire.UnitTests.Coordinator;

/// <summary>Builds registry entries for tests.</summary>
internal static class RegisteredNodes
{
    public static RegisteredNode Create(string id, int inFlight = 0, int maxConcurrency = 10, string status = NodeStatus.Ready, params string[] tools) =>
        new(new NodeHeartbeat
        {
            Id = id,
            McpUrl = new Uri($"http://127.0.0.1:1/{id}/mcp"),
            Status = status,
            InFlight = inFlight,
            MaxConcurrency = maxConcurrency,
            Tools = [.. (tools.Length == 0 ? ["echo"] : tools).Select(name => new Tool { Name = name, Description = $"{name} on {id}" })],
            SentAt = DateTimeOffset.UnixEpoch,
            TtlMilliseconds = 6000,
        });
}
