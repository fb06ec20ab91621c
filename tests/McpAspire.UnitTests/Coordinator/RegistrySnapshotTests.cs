using System.Text.Json;
using McpAspire.Cluster;
using McpAspire.McpCoordinator.Registry;
using ModelContextProtocol.Protocol;

namespace McpAspire.UnitTests.Coordinator;

public sealed class RegistrySnapshotTests
{
    [Fact]
    public void Tools_are_the_union_of_ready_nodes_sorted_by_name_with_the_first_definition_kept()
    {
        var snapshot = new RegistrySnapshot(
            [
                RegisteredNodes.Create("n1", tools: ["echo", "zeta"]),
                RegisteredNodes.Create("n2", tools: ["echo", "alpha"]),
                RegisteredNodes.Create("n3", status: NodeStatus.Draining, tools: ["draining_only"]),
            ],
            DateTimeOffset.UnixEpoch);

        Assert.Equal(["alpha", "echo", "zeta"], snapshot.Tools.Select(tool => tool.Name));
        Assert.Equal("echo on n1", snapshot.Tools.Single(tool => tool.Name == "echo").Description);
    }

    [Fact]
    public void Nodes_offering_a_tool_include_draining_ones_and_unknown_tools_have_none()
    {
        var snapshot = new RegistrySnapshot(
            [
                RegisteredNodes.Create("n1", tools: ["echo", "zeta"]),
                RegisteredNodes.Create("n2", tools: ["echo"]),
                RegisteredNodes.Create("n3", status: NodeStatus.Draining, tools: ["echo"]),
            ],
            DateTimeOffset.UnixEpoch);

        Assert.Equal(["n1", "n2", "n3"], snapshot.NodesOffering("echo").Select(node => node.Id));
        Assert.Equal(["n1"], snapshot.NodesOffering("zeta").Select(node => node.Id));
        Assert.Empty(snapshot.NodesOffering("nope"));
    }

    [Fact]
    public void A_stale_copy_keeps_the_nodes_and_says_why()
    {
        var fresh = new RegistrySnapshot([RegisteredNodes.Create("n1")], DateTimeOffset.UnixEpoch);

        var stale = fresh.AsStale("Redis is unreachable");

        Assert.True(stale.IsStale);
        Assert.Equal("Redis is unreachable", stale.StaleReason);
        Assert.Same(fresh.Nodes, stale.Nodes);
        Assert.False(fresh.IsStale);
    }

    [Fact]
    public void One_name_with_two_schemas_serves_the_newest_nodes_definition_and_routes_only_to_nodes_sharing_it()
    {
        var snapshot = new RegistrySnapshot(
            [
                WithEcho("old", "1.9.3", """{"type":"object","properties":{"message":{"type":"string"}}}"""),
                WithEcho("new", "1.10.0+abc", """{"type":"object","properties":{"text":{"type":"string"}}}"""),
                WithEcho("new-too", "1.10.0", """{"type":"object","properties":{"text":{"type":"string"}}}"""),
            ],
            DateTimeOffset.UnixEpoch);

        var served = Assert.Single(snapshot.Tools);
        Assert.True(served.InputSchema.GetProperty("properties").TryGetProperty("text", out _));
        Assert.Equal(["new", "new-too"], snapshot.NodesOffering("echo").Select(node => node.Id).Order());
        var conflict = Assert.Single(snapshot.Conflicts);
        Assert.Equal(("echo", "new"), (conflict.Tool, conflict.ServedFrom));
        Assert.Equal(["new", "new-too"], conflict.Nodes);
        Assert.Equal(["old"], conflict.OtherNodes);
    }

    [Fact]
    public void Definitions_that_differ_only_in_description_are_no_conflict()
    {
        var snapshot = new RegistrySnapshot(
            [RegisteredNodes.Create("n1", tools: ["echo"]), RegisteredNodes.Create("n2", tools: ["echo"])],
            DateTimeOffset.UnixEpoch);

        Assert.Empty(snapshot.Conflicts);
        Assert.Equal(["n1", "n2"], snapshot.NodesOffering("echo").Select(node => node.Id));
    }

    private static RegisteredNode WithEcho(string id, string version, string inputSchema) => new(new NodeHeartbeat
    {
        Id = id,
        McpUrl = new Uri($"http://127.0.0.1:1/{id}/mcp"),
        Status = NodeStatus.Ready,
        MaxConcurrency = 10,
        Version = version,
        Tools = [new Tool { Name = "echo", InputSchema = JsonDocument.Parse(inputSchema).RootElement }],
        SentAt = DateTimeOffset.UnixEpoch,
        TtlMilliseconds = 6000,
    });
}
